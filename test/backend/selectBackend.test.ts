/**
 * Backend selection: the real chain on this machine (no GPU, no tfjs-node → wasm), forced preferences that throw
 * with the fix, and simulated probes for what this machine cannot show (libcudart missing, tfjs-node loading, …).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import {
  type BackendProbe,
  defaultProbe,
  describeBackend,
  detectNvidiaGpu,
  explainNativeLoadError,
  selectBackend,
} from '../../src-main/engine/backend/selectBackend';
import { isSoftwareAdapter, type WebGpuAdapterInfo } from '../../src-main/engine/backend/webgpu';

const GPU_PKG = '@tensorflow/tfjs-node-gpu';
const NODE_PKG = '@tensorflow/tfjs-node';

/** A probe where nothing native and no WebGPU adapter exists; wasm and cpu are the real ones unless overridden. */
function probe(over: Partial<BackendProbe> = {}): Partial<BackendProbe> {
  return {
    webgpuAdapter: async () => {
      throw new Error('no WebGPU adapter: simulated');
    },
    activateWebgpu: async () => {
      throw new Error('activateWebgpu must not be called here');
    },
    gpuDevice: async () => ({ present: false, detail: 'no NVIDIA GPU visible (simulated)' }),
    isInstalled: () => false,
    importPackage: async (pkg) => {
      const err = new Error(`Cannot find package '${pkg}' imported from /x.js`) as Error & { code: string };
      err.code = 'ERR_MODULE_NOT_FOUND';
      throw err;
    },
    ...over,
  };
}

describe('selectBackend on this machine', () => {
  it("'auto' picks wasm and says why tensorflow-gpu and tensorflow were skipped", async () => {
    const report = await selectBackend('auto');
    expect(report.name).toBe('wasm');
    expect(report.tfBackend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.simd).toBe(true);
    expect(report.threads).toBeGreaterThanOrEqual(1);
    expect(report.reason).toMatch(/wasm/);
    expect(report.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow']);
    const [gpu, webgpu, node] = report.skipped;
    // No GPU here: either Dawn finds no adapter, or only a software one (see webgpuBackend.test.ts).
    expect(webgpu.reason).toMatch(/^no WebGPU adapter: |^software adapter .* refused: |^Dawn .* failed to load/);
    expect(gpu.reason).toMatch(/no NVIDIA GPU|not installed|CUDA_VISIBLE_DEVICES/);
    if (!defaultProbe.isInstalled(NODE_PKG)) expect(node.reason).toBe('tfjs-node not installed (npm install @tensorflow/tfjs-node)');
    expect(describeBackend(report)).toMatch(/^wasm — .*\[skipped tensorflow-gpu: .*; webgpu: .*; tensorflow: .*\]$/);
  });

  it("forced 'tensorflow-gpu' throws, naming the backend, CUDA 11.2 and cuDNN 8.1", async () => {
    await expect(selectBackend('tensorflow-gpu')).rejects.toThrow(/^Backend tensorflow-gpu unavailable: .+\. Fix: .*CUDA 11\.2 and cuDNN 8\.1/);
    expect(tf.getBackend()).toBe('wasm'); // a failed forced choice changes nothing
  });

  it("forced 'tensorflow' throws when tfjs-node is not installed", async () => {
    if (defaultProbe.isInstalled(NODE_PKG)) return;
    await expect(selectBackend('tensorflow')).rejects.toThrow(
      'Backend tensorflow unavailable: tfjs-node not installed (npm install @tensorflow/tfjs-node). Fix: npm install @tensorflow/tfjs-node',
    );
  });

  it("forced 'cpu' and 'wasm' load and report", async () => {
    const cpu = await selectBackend('cpu');
    expect(cpu).toMatchObject({ name: 'cpu', tfBackend: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await selectBackend('wasm');
    expect(wasm).toMatchObject({ name: 'wasm', tfBackend: 'wasm', simd: true, skipped: [] });
  });

  it('CUDA_VISIBLE_DEVICES="" hides every GPU', async () => {
    const dev = await detectNvidiaGpu({ CUDA_VISIBLE_DEVICES: '' });
    expect(dev.present).toBe(false);
    if (process.platform === 'linux' && process.arch === 'x64') expect(dev.detail).toMatch(/CUDA_VISIBLE_DEVICES/);
  });
});

describe('selectBackend with simulated probes', () => {
  it('tfjs-node-gpu installed but libcudart missing: auto skips it with the translated reason', async () => {
    const importPackage = vi.fn(async (pkg: string) => {
      if (pkg === GPU_PKG) throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
    });
    const report = await selectBackend('auto', {
      probe: probe({
        gpuDevice: async () => ({ present: true, detail: '/dev/nvidia0' }),
        isInstalled: (pkg) => pkg === GPU_PKG,
        importPackage,
      }),
    });
    expect(report.name).toBe('wasm');
    expect(report.skipped[0]).toEqual({
      name: 'tensorflow-gpu',
      reason: 'libcudart.so.11.0 not found: tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1',
    });
    expect(report.skipped[1]).toEqual({ name: 'webgpu', reason: 'no WebGPU adapter: simulated' });
    expect(report.skipped[2].reason).toMatch(/tfjs-node not installed/);
    expect(importPackage).toHaveBeenCalledWith(GPU_PKG);
  });

  it('libcudart missing, forced: throws with reason and fix, no fallback', async () => {
    const before = tf.getBackend();
    await expect(
      selectBackend('tensorflow-gpu', {
        probe: probe({
          gpuDevice: async () => ({ present: true, detail: '/dev/nvidia0' }),
          isInstalled: () => true,
          importPackage: async () => {
            throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
          },
        }),
      }),
    ).rejects.toThrow(
      /^Backend tensorflow-gpu unavailable: libcudart\.so\.11\.0 not found: tfjs-node-gpu needs CUDA 11\.2 and cuDNN 8\.1\. Fix: npm install @tensorflow\/tfjs-node-gpu/,
    );
    expect(tf.getBackend()).toBe(before);
  });

  it('no GPU device: tfjs-node-gpu is not even imported (importing it without a GPU is slow)', async () => {
    const importPackage = vi.fn(async () => undefined);
    const report = await selectBackend('auto', {
      probe: probe({
        gpuDevice: async () => ({ present: false, detail: 'no NVIDIA GPU visible (no /dev/nvidia0, nvidia-smi not found or lists none)' }),
        isInstalled: (pkg) => pkg === GPU_PKG,
        importPackage,
      }),
    });
    expect(importPackage).not.toHaveBeenCalled();
    expect(report.skipped[0]).toEqual({
      name: 'tensorflow-gpu',
      reason: 'no NVIDIA GPU visible (no /dev/nvidia0, nvidia-smi not found or lists none)',
    });
    expect(report.name).toBe('wasm');
  });

  it('no GPU and tfjs-node-gpu not installed: both facts in one line', async () => {
    const report = await selectBackend('auto', { probe: probe() });
    expect(report.skipped[0].reason).toBe('no NVIDIA GPU visible (simulated); tfjs-node-gpu is not installed either');
  });

  it('GPU present but tfjs-node-gpu not installed', async () => {
    const report = await selectBackend('auto', { probe: probe({ gpuDevice: async () => ({ present: true, detail: '/dev/nvidia0' }) }) });
    expect(report.skipped[0].reason).toBe(
      'tfjs-node-gpu not installed (npm install @tensorflow/tfjs-node-gpu; needs Linux x64, CUDA 11.2 and cuDNN 8.1)',
    );
  });

  it('tfjs-node loads: auto picks tensorflow after skipping the GPU', async () => {
    const activate = vi.fn(async (name: string) => name === 'tensorflow');
    const importPackage = vi.fn(async () => undefined);
    const report = await selectBackend('auto', {
      probe: probe({ isInstalled: (pkg) => pkg === NODE_PKG, importPackage, activate, current: () => 'tensorflow' }),
    });
    expect(report).toEqual({
      name: 'tensorflow',
      tfBackend: 'tensorflow',
      reason: 'tfjs-node (native libtensorflow on the CPU)',
      skipped: [
        { name: 'tensorflow-gpu', reason: 'no NVIDIA GPU visible (simulated); tfjs-node-gpu is not installed either' },
        { name: 'webgpu', reason: 'no WebGPU adapter: simulated' },
      ],
    });
    expect(importPackage).toHaveBeenCalledWith(NODE_PKG);
    expect(activate).toHaveBeenCalledWith('tensorflow');
  });

  it('tfjs-node-gpu loads on a GPU: reason names the device', async () => {
    const report = await selectBackend('auto', {
      probe: probe({
        gpuDevice: async () => ({ present: true, detail: 'GPU 0: NVIDIA H100 80GB HBM3' }),
        isInstalled: () => true,
        importPackage: async () => undefined,
        activate: async (name) => name === 'tensorflow',
        current: () => 'tensorflow',
      }),
    });
    expect(report.name).toBe('tensorflow-gpu');
    expect(report.reason).toBe('tfjs-node-gpu (libtensorflow with CUDA) on GPU 0: NVIDIA H100 80GB HBM3');
    expect(report.skipped).toEqual([]);
  });

  it('tfjs-node imports but its backend does not initialise', async () => {
    const report = await selectBackend('auto', {
      probe: probe({ isInstalled: (pkg) => pkg === NODE_PKG, importPackage: async () => undefined, activate: async (n) => (n === 'tensorflow' ? false : tf.setBackend(n)) }),
    });
    expect(report.skipped[2].reason).toBe("@tensorflow/tfjs-node loaded but the 'tensorflow' backend did not initialise");
    expect(report.name).toBe('wasm');
  });

  it('wasm failing falls back to cpu under auto, and throws when forced', async () => {
    const p = probe({
      prepareWasm: async () => {
        throw new Error('no .wasm files in /nowhere');
      },
    });
    const report = await selectBackend('auto', { probe: p });
    expect(report.name).toBe('cpu');
    expect(report.skipped[3]).toEqual({ name: 'wasm', reason: 'the wasm backend failed to load: no .wasm files in /nowhere' });
    await expect(selectBackend('wasm', { probe: p })).rejects.toThrow(/^Backend wasm unavailable: .*no \.wasm files.*Fix: reinstall @tensorflow\/tfjs-backend-wasm/);
    await selectBackend('wasm');
  });

  it('nothing loads: auto throws with every reason', async () => {
    await expect(
      selectBackend('auto', { probe: probe({ prepareWasm: async () => Promise.reject(new Error('broken')), activate: async () => false }) }),
    ).rejects.toThrow(/^No tfjs backend could start: tensorflow-gpu: .*; webgpu: .*; tensorflow: .*; wasm: .*broken; cpu: the cpu backend did not initialise$/);
    await selectBackend('wasm');
  });
});

describe('webgpu in the chain (simulated adapters)', () => {
  const hardware: WebGpuAdapterInfo = {
    vendor: 'nvidia',
    architecture: 'ada',
    description: 'NVIDIA GeForce RTX 4090',
    device: '',
    software: false,
    maxStorageBufferBindingSize: 2 ** 31 - 4,
    maxBufferSize: 2 ** 32,
  };
  const lavapipe: WebGpuAdapterInfo = { ...hardware, vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)', software: true };

  it('a hardware adapter comes after tfjs-node-gpu and before tfjs-node; the line names it and its limits', async () => {
    const activateWebgpu = vi.fn(async () => true);
    const report = await selectBackend('auto', {
      probe: probe({ webgpuAdapter: async () => hardware, activateWebgpu, current: () => 'webgpu', isInstalled: () => true, importPackage: async () => undefined }),
    });
    expect(activateWebgpu).toHaveBeenCalledOnce();
    expect(report).toMatchObject({ name: 'webgpu', tfBackend: 'webgpu', adapter: hardware });
    expect(report.skipped).toEqual([{ name: 'tensorflow-gpu', reason: 'no NVIDIA GPU visible (simulated)' }]);
    expect(describeBackend(report)).toBe(
      'webgpu — tfjs-backend-webgpu on NVIDIA GeForce RTX 4090 (nvidia, ada; maxStorageBufferBindingSize 2048 MiB, maxBufferSize 4 GiB) ' +
        '[skipped tensorflow-gpu: no NVIDIA GPU visible (simulated)]',
    );
  });

  it("'auto' never takes a software adapter, and says how to force it", async () => {
    const activateWebgpu = vi.fn(async () => true);
    const report = await selectBackend('auto', { probe: probe({ webgpuAdapter: async () => lavapipe, activateWebgpu }) });
    expect(activateWebgpu).not.toHaveBeenCalled();
    expect(report.name).toBe('wasm');
    expect(report.skipped[1]).toEqual({
      name: 'webgpu',
      reason: 'software adapter llvmpipe (LLVM 15.0.6, 256 bits) refused: slower than the CPU kernels; force with --backend webgpu',
    });
  });

  it('forced webgpu takes a software adapter; without any adapter it throws naming the fix', async () => {
    const before = tf.getBackend();
    const report = await selectBackend('webgpu', {
      probe: probe({ webgpuAdapter: async () => lavapipe, activateWebgpu: async () => true, current: () => 'webgpu' }),
    });
    expect(report).toMatchObject({ name: 'webgpu', adapter: { software: true } });
    expect(report.reason).toContain('software adapter');
    await expect(selectBackend('webgpu', { probe: probe() })).rejects.toThrow(
      /^Backend webgpu unavailable: no WebGPU adapter: simulated\. Fix: a GPU with a Vulkan \(Linux, Windows\), Metal \(macOS\) or Direct3D 12/,
    );
    expect(tf.getBackend()).toBe(before);
  });

  it('an adapter whose device does not start is skipped with the adapter named', async () => {
    const report = await selectBackend('auto', {
      probe: probe({
        webgpuAdapter: async () => hardware,
        activateWebgpu: async () => {
          throw new Error('requestDevice: limit maxBufferSize exceeds adapter\nat …');
        },
      }),
    });
    expect(report.skipped[1]).toEqual({
      name: 'webgpu',
      reason: 'the webgpu backend failed on NVIDIA GeForce RTX 4090: requestDevice: limit maxBufferSize exceeds adapter',
    });
    expect(report.name).toBe('wasm');
  });

  it('isSoftwareAdapter knows SwiftShader, lavapipe, WARP and the fallback flag', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'apple', description: 'Apple M2', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX' })).toBe(false);
  });
});

describe('explainNativeLoadError', () => {
  const gpu = (msg: string, code?: string) => {
    const e = new Error(msg) as Error & { code?: string };
    if (code) e.code = code;
    return explainNativeLoadError('tensorflow-gpu', e);
  };
  it('names the missing CUDA or cuDNN library', () => {
    expect(gpu('libcudart.so.11.0: cannot open shared object file: No such file or directory')).toBe(
      'libcudart.so.11.0 not found: tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1',
    );
    expect(gpu('Error: libcudnn.so.8: cannot open shared object file: No such file or directory')).toBe(
      'libcudnn.so.8 not found: tfjs-node-gpu needs cuDNN 8.1 (with CUDA 11.2)',
    );
    expect(gpu('libcublasLt.so.11: cannot open shared object file')).toMatch(/^libcublasLt\.so\.11 not found: .*CUDA 11\.2 and cuDNN 8\.1/);
    expect(gpu('libcuda.so.1: cannot open shared object file')).toMatch(/^libcuda\.so\.1 not found: no NVIDIA driver/);
  });
  it('tells "not installed" from "native binding missing" and other native failures', () => {
    expect(gpu(`Cannot find package '${GPU_PKG}' imported from /a/b.js`, 'ERR_MODULE_NOT_FOUND')).toMatch(/^tfjs-node-gpu not installed/);
    expect(gpu(`Cannot find module '/n/${GPU_PKG}/lib/napi-v8/tfjs_binding.node'`, 'MODULE_NOT_FOUND')).toBe(
      `tfjs-node-gpu's native binding is missing (npm rebuild ${GPU_PKG})`,
    );
    expect(gpu('libtensorflow.so.2: cannot open shared object file')).toMatch(/did not download libtensorflow/);
    expect(gpu("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.29' not found")).toMatch(/needs GLIBC_2\.29/);
    expect(explainNativeLoadError('tensorflow', new Error('something odd\nstack'))).toBe('tfjs-node failed to load: something odd');
  });
});

describe('selection leaves no tensors behind', () => {
  it('numTensors unchanged', async () => {
    const before = tf.memory().numTensors;
    await selectBackend('auto');
    expect(tf.memory().numTensors).toBe(before);
  });
});
