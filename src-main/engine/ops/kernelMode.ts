import * as tf from '@tensorflow/tfjs';

/**
 * Which implementation the ops use. 'auto' (default): the fast kernels with their own gradients on the 'wasm'
 * and 'cpu' backends, tf's plain ops everywhere else (tfjs-node(-gpu) has good native kernels and gradients, and
 * tfjs-backend-webgpu has every kernel and gradient kernel the plain ops need, checked in test/ops/webgpuOps.test.ts).
 * 'fast' / 'plain' force one side on every backend (tests, benchmarks).
 */
export type KernelMode = 'auto' | 'fast' | 'plain';

let mode: KernelMode = 'auto';

export function setKernelMode(next: KernelMode): void {
  mode = next;
}

export function getKernelMode(): KernelMode {
  return mode;
}

/** Decided per call from the active backend, so selecting a backend later needs no rebuild of the model. */
export function useFastKernels(): boolean {
  if (mode !== 'auto') return mode === 'fast';
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu';
}
