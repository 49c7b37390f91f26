/**
 * The WebGPU backend: Dawn's Node bindings (the `webgpu` package, a prebuilt Node-API `dawn.node` for Linux,
 * macOS and Windows) give Node a GPU adapter on Vulkan, Metal or Direct3D 12, and `@tensorflow/tfjs-backend-webgpu`
 * runs tfjs's kernels on it.
 *
 * We make the adapter and the device ourselves (instead of letting tfjs-backend-webgpu ask `navigator.gpu`) so that
 * selection can look at the adapter first (a software adapter is refused by 'auto'), the backend line can name it
 * with the limits that matter, and a lost device or an uncaptured GPU error is recorded with the adapter's message
 * (`webgpuFailure`, `onWebGpuFailure`) instead of hanging the worker.
 *
 * Global side effects (once per process): defines `navigator.gpu` and the WebGPU constants (`GPUBufferUsage`, …)
 * on globalThis, which tfjs-backend-webgpu reads; registers the tfjs backend 'webgpu'.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';

/** What the studio shows and checks about an adapter. */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
  /** A CPU implementation of WebGPU (SwiftShader, lavapipe/llvmpipe, WARP, or `isFallbackAdapter`). */
  software: boolean;
  /** Largest buffer one shader binding may see, bytes. */
  maxStorageBufferBindingSize: number;
  /** Largest GPU buffer, bytes. */
  maxBufferSize: number;
}

/** Vulkan loader (libvulkan.so.1) to load before Dawn, for machines without the system's: see README "Backends". */
export const VULKAN_LOADER_ENV = 'IDDPM_VULKAN_LOADER';

const SOFTWARE_NAMES = /swiftshader|lavapipe|llvmpipe|softpipe|microsoft basic render|\bwarp\b/i;

// Minimal shapes of the WebGPU objects we touch (the full types live in @webgpu/types).
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  limits: Record<string, number>;
  features: { has(name: string): boolean };
  requestDevice(desc?: unknown): Promise<GpuDeviceLike>;
}
interface GpuDeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
  onuncapturederror: ((ev: { error?: { message?: string } }) => void) | null;
  destroy(): void;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

interface DawnState {
  gpu: GpuLike;
  adapter: GpuAdapterLike;
  info: WebGpuAdapterInfo;
  device?: GpuDeviceLike;
}

let dawn: DawnState | null = null;
let failure: string | null = null;
const failureListeners = new Set<(message: string) => void>();

/** The name a user knows the adapter by: its description, else vendor and architecture. */
export function adapterName(info: WebGpuAdapterInfo): string {
  return info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
}

/** True for adapters that run WebGPU on the CPU. */
export function isSoftwareAdapter(info: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter) return true;
  return SOFTWARE_NAMES.test([info.vendor, info.architecture, info.description, info.device].join(' '));
}

function mib(bytes: number): string {
  return bytes >= 2 ** 30 && bytes % 2 ** 30 === 0 ? `${bytes / 2 ** 30} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

/** "SwiftShader driver 5.0.0 (google, swiftshader; software adapter; maxStorageBufferBindingSize 1 GiB, maxBufferSize 1 GiB)". */
export function describeAdapter(info: WebGpuAdapterInfo): string {
  const who = [info.vendor || 'unknown vendor', info.architecture || 'unknown architecture'].join(', ');
  const kind = info.software ? '; software adapter' : '';
  return `${adapterName(info)} (${who}${kind}; maxStorageBufferBindingSize ${mib(info.maxStorageBufferBindingSize)}, maxBufferSize ${mib(info.maxBufferSize)})`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Preloads the Vulkan loader named by IDDPM_VULKAN_LOADER. Dawn opens "libvulkan.so.1" by name; glibc reuses a
 * library already loaded under that soname, so loading it here (RTLD_NODELETE keeps it after Node's own check
 * rejects it as "not a Node module") lets Dawn find e.g. the copy Chromium ships beside SwiftShader.
 */
function preloadVulkanLoader(): void {
  if (process.platform !== 'linux') return;
  const named = process.env[VULKAN_LOADER_ENV];
  // Without a loader Dawn prints a warning with a C++ stack to stderr in every process that probes it; find out
  // first, quietly, by loading the system's loader ourselves.
  const file = named || 'libvulkan.so.1';
  const RTLD_NODELETE = 0x1000; // glibc; not in os.constants.dlopen
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, file, os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE);
  } catch (err) {
    // "did not self-register" is expected: the library is loaded, it just is not a Node addon.
    if (/self-register/.test(errorText(err))) return;
    if (named) throw new Error(`${VULKAN_LOADER_ENV}=${file} could not be loaded: ${errorText(err)}`);
    throw new NoVulkanLoaderError();
  }
}

/**
 * Loads Dawn and asks for the high-performance adapter. Throws an Error whose message is the reason a user reads
 * ("no WebGPU adapter: …") when there is none. Cached: one Dawn instance and adapter per process.
 */
export async function requestWebGpuAdapter(): Promise<WebGpuAdapterInfo> {
  if (dawn) return dawn.info;
  let mod: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  try {
    preloadVulkanLoader();
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (err) {
    if (err instanceof NoVulkanLoaderError) throw new Error(`no WebGPU adapter: ${err.message}`);
    throw new Error(`Dawn (the webgpu package) failed to load: ${errorText(err).split('\n')[0]}`);
  }
  const gpu = mod.create([]);
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    throw new Error(`no WebGPU adapter: requestAdapter failed: ${errorText(err).split('\n')[0]}`);
  }
  if (!adapter) throw new Error(`no WebGPU adapter: ${noAdapterHint()}`);
  const raw = adapter.info ?? {};
  const fallback = Boolean(raw.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const info: WebGpuAdapterInfo = {
    vendor: raw.vendor ?? '',
    architecture: raw.architecture ?? '',
    description: raw.description ?? '',
    device: raw.device ?? '',
    software: isSoftwareAdapter({ ...raw, isFallbackAdapter: fallback }),
    maxStorageBufferBindingSize: Number(adapter.limits.maxStorageBufferBindingSize),
    maxBufferSize: Number(adapter.limits.maxBufferSize),
  };
  // tfjs-backend-webgpu reads the WebGPU constants and navigator.gpu from globalThis.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  g.navigator!.gpu = gpu;
  dawn = { gpu, adapter, info };
  return info;
}

/** The system has no Vulkan loader (libvulkan.so.1), so Dawn can find no adapter on Linux. */
class NoVulkanLoaderError extends Error {
  constructor() {
    super("no Vulkan loader (libvulkan.so.1) on this machine: install libvulkan1 and the GPU vendor's Vulkan driver (`vulkaninfo --summary` lists what Vulkan sees)");
  }
}

function noAdapterHint(): string {
  switch (process.platform) {
    case 'linux':
      return 'Dawn found no Vulkan driver (install the GPU vendor\'s Vulkan driver and libvulkan1; `vulkaninfo --summary` lists what Vulkan sees)';
    case 'darwin':
      return 'Dawn found no Metal device';
    case 'win32':
      return 'Dawn found no Direct3D 12 or Vulkan device (update the GPU driver)';
    default:
      return `Dawn has no GPU backend on ${process.platform}`;
  }
}

function recordFailure(message: string): void {
  if (failure) return; // the first error is the cause; later ones are its echoes
  failure = message;
  for (const listener of failureListeners) listener(message);
}

/** The first device loss or uncaptured GPU error of this process, in words; null while the GPU is healthy. */
export function webgpuFailure(): string | null {
  return failure;
}

/** Calls `listener` once with the message when the device is lost or reports an uncaptured error. Returns an unsubscribe. */
export function onWebGpuFailure(listener: (message: string) => void): () => void {
  if (failure) {
    listener(failure);
    return () => undefined;
  }
  failureListeners.add(listener);
  return () => failureListeners.delete(listener);
}

/** Throws the recorded GPU failure, if any: call between steps so a broken device stops the run. */
export function assertWebGpuHealthy(): void {
  if (failure) throw new Error(failure);
}

/**
 * `read`, or the GPU failure if one comes first: a read from a lost device may never settle, and a run must
 * fail with the adapter's message instead of hanging.
 */
export function guardGpuRead<T>(read: Promise<T>): Promise<T> {
  if (failure) return Promise.reject(new Error(failure));
  if (!dawn?.device) return read;
  let unsubscribe = () => {};
  const failed = new Promise<never>((_, reject) => {
    unsubscribe = onWebGpuFailure((message) => reject(new Error(message)));
  });
  return Promise.race([read, failed]).finally(() => unsubscribe());
}

/**
 * Creates the device (with the adapter's full buffer limits), watches it for loss and uncaptured errors, registers
 * tfjs's 'webgpu' backend on it and makes it active. Call after `requestWebGpuAdapter`. Idempotent.
 */
export async function activateWebGpu(): Promise<boolean> {
  if (!dawn) await requestWebGpuAdapter();
  const state = dawn!;
  if (!state.device) {
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    const limits = state.adapter.limits;
    const wanted = [
      'maxComputeWorkgroupStorageSize',
      'maxComputeWorkgroupsPerDimension',
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxComputeWorkgroupSizeX',
      'maxComputeInvocationsPerWorkgroup',
    ];
    const requiredLimits = Object.fromEntries(wanted.filter((k) => limits[k] !== undefined).map((k) => [k, limits[k]]));
    const requiredFeatures = state.adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    const device = await state.adapter.requestDevice({ requiredLimits, requiredFeatures });
    const name = adapterName(state.info);
    device.lost.then((lost) => {
      // 'destroyed' is our own dispose at exit, not a failure.
      if (lost.reason !== 'destroyed') recordFailure(`WebGPU device lost on ${name}: ${lost.message || lost.reason || 'no message'}`);
    });
    device.onuncapturederror = (ev) => recordFailure(`WebGPU error on ${name}: ${ev.error?.message ?? 'unknown error'}`);
    state.device = device;
    // A registration left by importing tfjs-backend-webgpu where navigator.gpu already existed uses its own device.
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    const backendInfo = { vendor: state.info.vendor, architecture: state.info.architecture, description: state.info.description, device: state.info.device };
    tf.registerBackend('webgpu', () => new WebGPUBackend(device as never, backendInfo as never), 0);
  }
  const ok = await tf.setBackend('webgpu');
  if (ok) await tf.ready();
  return ok && tf.getBackend() === 'webgpu';
}

/** The adapter the active 'webgpu' backend runs on, or null before `requestWebGpuAdapter`. */
export function activeAdapter(): WebGpuAdapterInfo | null {
  return dawn?.info ?? null;
}

/** The GPUDevice the 'webgpu' backend runs on (typed loosely: @webgpu/types is not part of the engine's types). */
export function activeWebGpuDevice(): unknown {
  return dawn?.device ?? null;
}
