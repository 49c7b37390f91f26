/**
 * How much memory a training run may use on this machine with the backend it got, for the check the worker
 * makes before it allocates (src-shared/config/memoryCheck.ts). Tensors live in the wasm heap on wasm (a
 * 32-bit address space: emscripten's heap maximum is 4 GiB less 64 KiB, so a larger run dies with "memory
 * access out of bounds"), and in the process's memory on cpu and tfjs-node. On tfjs-node-gpu they live on
 * the GPU, whose size tfjs cannot tell us, and TensorFlow reports its own out-of-memory errors there, so
 * only the studio's absolute ceiling applies.
 */
import { totalmem } from 'node:os';
import { DEFAULT_MEMORY_LIMIT } from '../../../src-shared/config/validate';
import { formatBytes, type MemoryLimit } from '../../../src-shared/config/memoryCheck';
import type { BackendName } from './selectBackend';

/** emscripten's getHeapMax() in tfjs-backend-wasm 4.22. */
export const WASM_HEAP_MAX_BYTES = 4294901760;

export function backendMemoryLimit(backend: BackendName, machineBytes: number = totalmem()): MemoryLimit {
  const machine: MemoryLimit = { bytes: machineBytes, what: `this machine's ${formatBytes(machineBytes)} of memory` };
  if (backend === 'wasm') {
    return machineBytes < WASM_HEAP_MAX_BYTES ? machine : { bytes: WASM_HEAP_MAX_BYTES, what: `the 4 GiB the wasm backend can address` };
  }
  // On a GPU backend the limit is the device's, which tfjs cannot report (webgpu checks its buffer limits itself).
  if (backend === 'tensorflow-gpu' || backend === 'webgpu') return DEFAULT_MEMORY_LIMIT;
  return machine;
}
