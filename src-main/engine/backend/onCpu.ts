/**
 * Runs small tensor code that reads its results synchronously (layout conversions of checkpoints) on the cpu
 * backend while the active backend cannot read synchronously (webgpu in Node), then switches back.
 *
 * Only for code that makes its own tensors from JavaScript arrays and returns arrays: tensors of the other backend
 * would be moved (read) across, which is exactly what webgpu cannot do synchronously.
 */
import * as tf from '@tensorflow/tfjs';

/** Backends whose readSync does not work in Node. */
const NO_SYNC_READ = new Set(['webgpu']);

export function onCpuWhenNoSyncRead<T>(fn: () => T): T {
  const prev = tf.getBackend();
  if (!NO_SYNC_READ.has(prev)) return fn();
  switchNow('cpu');
  try {
    return fn();
  } finally {
    switchNow(prev);
  }
}

/** tf.setBackend to an initialised (or synchronously initialised) backend takes effect before it returns. */
function switchNow(name: string): void {
  void tf.setBackend(name);
  if (tf.getBackend() !== name || tf.engine().backendName !== name) throw new Error(`could not switch the tfjs backend to ${name}`);
}
