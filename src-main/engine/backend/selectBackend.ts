/**
 * Picks the tfjs backend a worker trains on and says why, in words a user can act on.
 *
 * 'auto' walks tfjs-node-gpu (only when an NVIDIA GPU is visible) → webgpu (Dawn; a hardware adapter only, see
 * ./webgpu.ts) → tfjs-node → wasm → cpu and stops at the first that loads; every better one that did not load is
 * listed in `skipped` with its reason. A forced preference never falls back: it throws an Error naming the backend,
 * the reason and the fix. A software WebGPU adapter (SwiftShader, lavapipe) is refused by 'auto', since the CPU
 * kernels are faster, but runs when forced (that is how the tests reach the WebGPU kernels without a GPU).
 *
 * Everything that touches the machine (device files, package imports, tf.setBackend) goes through a
 * `BackendProbe`, so tests can simulate "tfjs-node-gpu installed but libcudart missing" without the package.
 * Call it once at worker start, before any tensor or variable is made (see ../ops/index.ts for what the ops do
 * on each backend). No Electron or SQLite here.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendPreference } from '../../../src-shared/config/enums';
import type { BackendAvailability } from '../../../src-shared/protocol';
import { installWasmKernelFixes } from './wasmKernels';
import { loadNative } from '../native/loadNative';
import { nativeKernelsEnabled } from '../ops/native';
import { activateWebGpu, adapterName, describeAdapter, requestWebGpuAdapter, type WebGpuAdapterInfo } from './webgpu';

export type { BackendPreference };
export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendReport {
  /** What runs. */
  name: BackendName;
  /** tf.getBackend() after selection ('tensorflow' for both tfjs-node flavours). */
  tfBackend: string;
  /** One line: why this one. */
  reason: string;
  /** Every better backend that did not load, best first, with its reason. */
  skipped: { name: BackendName; reason: string }[];
  /** XNNPACK threads (wasm only). */
  threads?: number;
  /** Whether the SIMD wasm binary runs (wasm only). */
  simd?: boolean;
  /** wasm and cpu only: "native kernels: 2 threads, AVX2", or "native kernels: off (why)" (../native/loadNative.ts). */
  native?: string;
  /** webgpu only: the adapter it runs on and its buffer limits. */
  adapter?: WebGpuAdapterInfo;
}

export interface GpuDeviceInfo {
  present: boolean;
  /** e.g. "/dev/nvidia0", "GPU 0: NVIDIA H100 (UUID: …)", or why none was found. */
  detail: string;
}

export interface WasmInfo {
  threads: number;
  simd: boolean;
}

/** The machine-facing steps of selection; the defaults are `defaultProbe`. */
export interface BackendProbe {
  /** Cheap check, BEFORE importing tfjs-node-gpu (importing it without a GPU can take long). */
  gpuDevice(): Promise<GpuDeviceInfo>;
  /** Whether the package resolves, without loading it. */
  isInstalled(pkg: string): boolean;
  /** Import a native tfjs package (registers the 'tensorflow' backend); throws the raw loader error. */
  importPackage(pkg: string): Promise<void>;
  /** Prepare the wasm backend (wasm paths); throws on failure. */
  prepareWasm(): Promise<void>;
  /** tf.setBackend(name) and wait until ready; false when it did not initialise. */
  activate(tfName: string): Promise<boolean>;
  /** The active tf backend name. */
  current(): string;
  /** Threads and SIMD of the active wasm backend. */
  wasmInfo(): Promise<WasmInfo>;
  /** Load Dawn and describe its high-performance adapter; throws with the reason when there is none. */
  webgpuAdapter(): Promise<WebGpuAdapterInfo>;
  /** Create the device on that adapter and make tfjs's 'webgpu' backend active; false when it did not initialise. */
  activateWebgpu(): Promise<boolean>;
}

export interface SelectOptions {
  probe?: Partial<BackendProbe>;
  /** Re-register the copy-free wasm kernels (wasmKernels.ts) once wasm is active. Default true. */
  wasmKernelFixes?: boolean;
}

const GPU_PKG = '@tensorflow/tfjs-node-gpu';
const NODE_PKG = '@tensorflow/tfjs-node';
const GPU_FIX = 'npm install @tensorflow/tfjs-node-gpu; needs Linux x64, an NVIDIA GPU with its driver, CUDA 11.2 and cuDNN 8.1';
const NODE_FIX = 'npm install @tensorflow/tfjs-node; needs a prebuilt libtensorflow for this OS/CPU (downloaded at install)';
const WASM_FIX =
  'reinstall @tensorflow/tfjs-backend-wasm (its dist/ must hold tfjs-backend-wasm*.wasm) or choose the cpu backend';
const WEBGPU_FIX =
  'a GPU with a Vulkan (Linux, Windows), Metal (macOS) or Direct3D 12 (Windows) driver, and the webgpu and @tensorflow/tfjs-backend-webgpu packages (npm install)';
const NOT_INSTALLED: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': 'tfjs-node-gpu not installed (npm install @tensorflow/tfjs-node-gpu; needs Linux x64, CUDA 11.2 and cuDNN 8.1)',
  tensorflow: 'tfjs-node not installed (npm install @tensorflow/tfjs-node)',
};

// ---------------------------------------------------------------------------------------------------------------
// Default probe

const require_ = createRequire(import.meta.url);

function runQuiet(cmd: string, args: string[], timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile(cmd, args, { timeout: timeoutMs, windowsHide: true }, (err, stdout) => resolve(err ? null : String(stdout)));
    } catch {
      resolve(null);
    }
  });
}

/** Looks for an NVIDIA device without loading any CUDA library. */
export async function detectNvidiaGpu(env: NodeJS.ProcessEnv = process.env): Promise<GpuDeviceInfo> {
  if (process.platform !== 'linux') return { present: false, detail: `tfjs-node-gpu supports Linux only (this is ${process.platform})` };
  if (process.arch !== 'x64') return { present: false, detail: `tfjs-node-gpu supports x64 only (this is ${process.arch})` };
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1')) {
    return { present: false, detail: `CUDA_VISIBLE_DEVICES="${visible}" hides every GPU` };
  }
  if (existsSync('/dev/nvidia0')) return { present: true, detail: '/dev/nvidia0' };
  // WSL2 and some containers expose the GPU without /dev/nvidia0: ask nvidia-smi (fails fast when absent).
  const out = await runQuiet('nvidia-smi', ['-L'], 5000);
  const gpu = out?.split('\n').find((l) => l.startsWith('GPU '));
  if (gpu) return { present: true, detail: gpu.trim() };
  return { present: false, detail: 'no NVIDIA GPU visible (no /dev/nvidia0, nvidia-smi not found or lists none)' };
}

function wasmDistDir(): string {
  return path.dirname(require_.resolve('@tensorflow/tfjs-backend-wasm'));
}

let wasmPathsSet = false;

export const defaultProbe: BackendProbe = {
  gpuDevice: () => detectNvidiaGpu(),
  isInstalled(pkg) {
    try {
      require_.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  },
  async importPackage(pkg) {
    // A variable specifier keeps bundlers from resolving the optional package at build time.
    await import(/* @vite-ignore */ pkg);
  },
  async prepareWasm() {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (wasmPathsSet) return;
    const dir = wasmDistDir();
    if (!existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm'))) throw new Error(`no .wasm files in ${dir}`);
    wasm.setWasmPaths(dir + path.sep);
    wasmPathsSet = true;
  },
  async activate(tfName) {
    const ok = await tf.setBackend(tfName);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === tfName;
  },
  current: () => tf.getBackend(),
  async wasmInfo() {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    return { threads: wasm.getThreadsCount(), simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) };
  },
  webgpuAdapter: () => requestWebGpuAdapter(),
  activateWebgpu: () => activateWebGpu(),
};

// ---------------------------------------------------------------------------------------------------------------
// Error translation

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

/**
 * Turns a loader error of tfjs-node(-gpu) into one line with the cause a user can fix.
 * `which` picks the package the wording names.
 */
export function explainNativeLoadError(which: 'tensorflow-gpu' | 'tensorflow', err: unknown): string {
  const pkgName = which === 'tensorflow-gpu' ? 'tfjs-node-gpu' : 'tfjs-node';
  const pkg = which === 'tensorflow-gpu' ? GPU_PKG : NODE_PKG;
  const msg = errorText(err);
  const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : '';
  const firstLine = msg.split('\n')[0].trim();

  const cuda = /(lib(?:cudart|cublas|cublasLt|cufft|curand|cusolver|cusparse|cudnn|nvinfer)[\w.-]*\.so[\d.]*): cannot open shared object file/.exec(msg);
  if (cuda) {
    const lib = cuda[1];
    const needs = /cudnn/.test(lib) ? 'cuDNN 8.1 (with CUDA 11.2)' : 'CUDA 11.2 and cuDNN 8.1';
    return `${lib} not found: ${pkgName} needs ${needs}`;
  }
  const libcuda = /(libcuda\.so[\d.]*): cannot open shared object file/.exec(msg);
  if (libcuda) return `${libcuda[1]} not found: no NVIDIA driver installed (${pkgName} needs the driver, CUDA 11.2 and cuDNN 8.1)`;
  const libtf = /(libtensorflow[\w.-]*\.so[\d.]*): cannot open shared object file/.exec(msg);
  if (libtf) return `${libtf[1]} not found: ${pkgName}'s install did not download libtensorflow (npm rebuild ${pkg} with internet access)`;
  if (/tfjs_binding\.node/.test(msg) && /Cannot find module|cannot open shared object/.test(msg)) {
    return `${pkgName}'s native binding is missing (npm rebuild ${pkg})`;
  }
  const glibc = /(GLIBC(?:XX)?_[\d.]+)' not found/.exec(msg);
  if (glibc) return `${pkgName}'s libtensorflow needs ${glibc[1]}, newer than this system's C library`;
  if (/invalid ELF header|wrong ELF class|Exec format error/.test(msg)) {
    return `${pkgName}'s native library was built for another OS/CPU (${process.platform}-${process.arch}); reinstall it here`;
  }
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (?:package|module)/.test(msg);
  if (notFound && msg.includes(pkg)) return NOT_INSTALLED[which];
  return `${pkgName} failed to load: ${firstLine}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Selection

type Attempt =
  | { ok: true; reason: string; tfBackend: string; threads?: number; simd?: boolean; adapter?: WebGpuAdapterInfo }
  | { ok: false; reason: string; fix: string };

const ORDER: BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

async function tryNative(which: 'tensorflow-gpu' | 'tensorflow', probe: BackendProbe): Promise<Attempt> {
  const pkg = which === 'tensorflow-gpu' ? GPU_PKG : NODE_PKG;
  const fix = which === 'tensorflow-gpu' ? GPU_FIX : NODE_FIX;
  let deviceDetail = '';
  if (which === 'tensorflow-gpu') {
    const dev = await probe.gpuDevice();
    if (!dev.present) {
      const alsoMissing = probe.isInstalled(pkg) ? '' : '; tfjs-node-gpu is not installed either';
      return { ok: false, reason: `${dev.detail}${alsoMissing}`, fix };
    }
    deviceDetail = dev.detail;
  }
  if (!probe.isInstalled(pkg)) return { ok: false, reason: NOT_INSTALLED[which], fix };
  try {
    await probe.importPackage(pkg);
  } catch (err) {
    return { ok: false, reason: explainNativeLoadError(which, err), fix };
  }
  let active = false;
  try {
    active = await probe.activate('tensorflow');
  } catch (err) {
    return { ok: false, reason: `${pkg} loaded but the tensorflow backend failed: ${errorText(err).split('\n')[0]}`, fix };
  }
  if (!active) return { ok: false, reason: `${pkg} loaded but the 'tensorflow' backend did not initialise`, fix };
  const reason =
    which === 'tensorflow-gpu'
      ? `tfjs-node-gpu (libtensorflow with CUDA) on ${deviceDetail}`
      : 'tfjs-node (native libtensorflow on the CPU)';
  return { ok: true, reason, tfBackend: probe.current() };
}

async function tryWasm(probe: BackendProbe, fixes: boolean): Promise<Attempt> {
  try {
    await probe.prepareWasm();
    if (!(await probe.activate('wasm'))) return { ok: false, reason: 'the wasm backend did not initialise', fix: WASM_FIX };
  } catch (err) {
    return { ok: false, reason: `the wasm backend failed to load: ${errorText(err).split('\n')[0]}`, fix: WASM_FIX };
  }
  if (fixes && probe.current() === 'wasm') installWasmKernelFixes();
  const info = await probe.wasmInfo();
  const reason = `tfjs-backend-wasm (XNNPACK${info.simd ? ', SIMD' : ', no SIMD'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;
  return { ok: true, reason, tfBackend: probe.current(), threads: info.threads, simd: info.simd };
}

async function tryWebgpu(probe: BackendProbe, forced: boolean): Promise<Attempt> {
  let adapter: WebGpuAdapterInfo;
  try {
    adapter = await probe.webgpuAdapter();
  } catch (err) {
    return { ok: false, reason: errorText(err).split('\n')[0], fix: WEBGPU_FIX };
  }
  if (adapter.software && !forced) {
    return {
      ok: false,
      reason: `software adapter ${adapterName(adapter)} refused: slower than the CPU kernels; force with --backend webgpu`,
      fix: WEBGPU_FIX,
    };
  }
  try {
    if (!(await probe.activateWebgpu())) {
      return { ok: false, reason: `the webgpu backend did not initialise on ${adapterName(adapter)}`, fix: WEBGPU_FIX };
    }
  } catch (err) {
    return { ok: false, reason: `the webgpu backend failed on ${adapterName(adapter)}: ${errorText(err).split('\n')[0]}`, fix: WEBGPU_FIX };
  }
  return { ok: true, reason: `tfjs-backend-webgpu on ${describeAdapter(adapter)}`, tfBackend: probe.current(), adapter };
}

async function tryCpu(probe: BackendProbe): Promise<Attempt> {
  try {
    if (await probe.activate('cpu')) return { ok: true, reason: 'tfjs cpu backend (plain JavaScript, slowest)', tfBackend: probe.current() };
  } catch (err) {
    return { ok: false, reason: `the cpu backend failed: ${errorText(err)}`, fix: 'reinstall @tensorflow/tfjs' };
  }
  return { ok: false, reason: 'the cpu backend did not initialise', fix: 'reinstall @tensorflow/tfjs' };
}

function attempt(name: BackendName, probe: BackendProbe, fixes: boolean, forced: boolean): Promise<Attempt> {
  switch (name) {
    case 'webgpu':
      return tryWebgpu(probe, forced);
    case 'tensorflow-gpu':
    case 'tensorflow':
      return tryNative(name, probe);
    case 'wasm':
      return tryWasm(probe, fixes);
    case 'cpu':
      return tryCpu(probe);
  }
}

/**
 * Select and activate a backend. 'auto' falls back along tensorflow-gpu → webgpu → tensorflow → wasm → cpu; any other
 * preference is forced and throws `Error("Backend X unavailable: reason. Fix: …")` when it cannot run.
 */
export async function selectBackend(preference: BackendPreference, options: SelectOptions = {}): Promise<BackendReport> {
  const probe: BackendProbe = { ...defaultProbe, ...options.probe };
  const fixes = options.wasmKernelFixes ?? true;
  const candidates = preference === 'auto' ? ORDER : [preference];
  const skipped: BackendReport['skipped'] = [];
  for (const name of candidates) {
    const res = await attempt(name, probe, fixes, preference !== 'auto');
    if (res.ok) {
      const report: BackendReport = { name, tfBackend: res.tfBackend, reason: res.reason, skipped };
      if (res.threads !== undefined) report.threads = res.threads;
      if (res.simd !== undefined) report.simd = res.simd;
      if (res.adapter) report.adapter = res.adapter;
      if (res.tfBackend === 'wasm' || res.tfBackend === 'cpu') report.native = nativeLine();
      return report;
    }
    if (preference !== 'auto') throw new Error(`Backend ${name} unavailable: ${res.reason}. Fix: ${res.fix}.`);
    skipped.push({ name, reason: res.reason });
  }
  throw new Error(`No tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/**
 * Every backend of the chain, each tried on its own (a throwaway worker process: this activates them), in the
 * order 'auto' walks them, with the one 'auto' would pick marked. A software WebGPU adapter is available but
 * never auto's pick.
 */
export async function probeBackends(options: SelectOptions = {}): Promise<BackendAvailability[]> {
  const probe: BackendProbe = { ...defaultProbe, ...options.probe };
  const out: BackendAvailability[] = [];
  for (const name of ORDER) {
    if (name === 'webgpu') {
      try {
        const adapter = await probe.webgpuAdapter();
        const detail = adapter.software
          ? `software adapter ${describeAdapter(adapter)}: used only when forced (--backend webgpu), slower than the CPU kernels`
          : describeAdapter(adapter);
        out.push({ name, available: true, auto: false, detail, ...(adapter.software ? { software: true } : {}) });
      } catch (err) {
        out.push({ name, available: false, auto: false, detail: errorText(err).split('\n')[0] });
      }
      continue;
    }
    const res = await attempt(name, probe, options.wasmKernelFixes ?? false, true);
    const detail = res.ok ? (res.tfBackend === 'wasm' || res.tfBackend === 'cpu' ? `${res.reason}; ${nativeLine()}` : res.reason) : `${res.reason} (fix: ${res.fix})`;
    out.push({ name, available: res.ok, auto: false, detail });
  }
  const pick = out.find((b) => b.available && !(b as { software?: boolean }).software);
  if (pick) pick.auto = true;
  for (const b of out) delete (b as { software?: boolean }).software;
  return out;
}

function nativeLine(): string {
  const status = loadNative();
  if (!status.addon) return `native kernels: off (${status.reason})`;
  return nativeKernelsEnabled() ? `native kernels: ${status.reason}` : 'native kernels: off (disabled by setNativeKernels(false))';
}

/**
 * One line for logs and the Runs view, e.g.
 * "wasm — tfjs-backend-wasm (…); native kernels: 2 threads, AVX2 [skipped tensorflow-gpu: …]".
 */
export function describeBackend(r: BackendReport): string {
  const skipped = r.skipped.length ? ` [skipped ${r.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}]` : '';
  const native = r.native ? `; ${r.native}` : '';
  return `${r.name} — ${r.reason}${native}${skipped}`;
}
