/**
 * How the fast ops use the native kernels (../native/loadNative.ts): when the addon is loaded and enabled and the
 * backend is 'wasm' or 'cpu', conv2dFast, denseFast, attentionCoreFast and groupNormFast run their forward and
 * backward through it, inside the same custom-gradient ops (same math, same saved tensors or fewer).
 * setKernelMode('plain') still means tf's own ops (the …Plain forms never look here).
 *
 * Tensor data goes in and out without copies where the backend allows: on wasm the kernels read and write the
 * wasm heap directly (outputs are allocated first: an allocation may grow the heap and move it), on cpu they
 * read the backend's arrays and the outputs become tensors as they are.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loadNative, type NativeAddon } from '../native/loadNative';
import { hostMemoryBackend } from '../tensorScope';

let enabled = true;

/** Turn the native kernels on or off for the ops (default on when the addon loads). */
export function setNativeKernels(on: boolean): void {
  enabled = on;
}

export function nativeKernelsEnabled(): boolean {
  return enabled;
}

/** The addon, when the ops should use it now. */
export function activeNative(): NativeAddon | null {
  if (!enabled || !hostMemoryBackend()) return null;
  return loadNative().addon;
}

/** Set the native thread count (≥ 1); returns the count in effect, or null without the addon. */
export function setNativeThreads(threads: number): number | null {
  const addon = loadNative().addon;
  return addon ? addon.setThreads(Math.max(1, Math.floor(threads))) : null;
}

type WasmData = { memoryOffset: number | null };

/**
 * Runs `kernel` on the float32 data of `inputs` (null entries stay null) with fresh outputs of `outShapes`, and
 * returns the outputs as tensors. The kernel must fill every output element and must not keep the arrays.
 */
export function runNative(
  inputs: (tf.Tensor | null)[],
  outShapes: number[][],
  kernel: (ins: (Float32Array | null)[], outs: Float32Array[]) => void,
): tf.Tensor[] {
  for (const t of inputs) {
    if (t && t.dtype !== 'float32') throw new Error(`native kernels take float32 tensors, got ${t.dtype}`);
  }
  if (tf.getBackend() === 'wasm') {
    const be = tf.backend() as BackendWasm;
    const map = (be as unknown as { dataIdMap: { get(id: object): WasmData | undefined } }).dataIdMap;
    const infos = outShapes.map((s) => be.makeOutput(s, 'float32'));
    // Views only after every allocation: malloc may grow the heap and detach earlier views.
    const ins = inputs.map((t) => {
      if (!t) return null;
      const d = map.get(t.dataId);
      return d && d.memoryOffset != null && t.size > 0 ? (be.typedArrayFromHeap(t) as Float32Array) : (t.dataSync() as Float32Array);
    });
    const outs = infos.map((i) => (tf.util.sizeFromShape(i.shape) > 0 ? (be.typedArrayFromHeap(i) as Float32Array) : new Float32Array(0)));
    try {
      kernel(ins, outs);
    } catch (err) {
      for (const i of infos) be.disposeData(i.dataId, true);
      throw err;
    }
    return infos.map((i) => tf.engine().makeTensorFromTensorInfo(i));
  }
  const ins = inputs.map((t) => (t ? (t.dataSync() as Float32Array) : null));
  const outs = outShapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
  kernel(ins, outs);
  return outs.map((o, i) => tf.tensor(o, outShapes[i], 'float32'));
}
