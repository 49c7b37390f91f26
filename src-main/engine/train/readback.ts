/**
 * Reading tensor values back to JavaScript, written once for both ways of waiting.
 *
 * tfjs-backend-webgpu cannot read a GPU buffer synchronously in Node (its readSync needs OffscreenCanvas), so
 * code that needs values on the webgpu backend must await `data()`; the CPU backends read synchronously, and
 * callers such as benchmarks and tests rely on that. A computation that reads values is written as a generator
 * that yields the tensors it wants read and receives their values; `readSync` and `readAsync` drive it.
 */
import * as tf from '@tensorflow/tfjs';
import { guardGpuRead } from '../backend/webgpu';

/** A computation that yields tensors to read and gets back their values (float32 view, same order). */
export type Reads<R> = Generator<tf.Tensor[], R, Float32Array[]>;

/** Runs `plan` reading with dataSync (not on webgpu). */
export function readSync<R>(plan: Reads<R>): R {
  let step = plan.next([]);
  while (!step.done) step = plan.next(step.value.map((t) => t.dataSync() as Float32Array));
  return step.value;
}

/**
 * Runs `plan` reading with data() (every backend). A failed read, or a WebGPU device loss or error while waiting,
 * is thrown into the plan, so its finally blocks run.
 */
export async function readAsync<R>(plan: Reads<R>): Promise<R> {
  let step = plan.next([]);
  while (!step.done) {
    let values: Float32Array[];
    try {
      values = (await guardGpuRead(Promise.all(step.value.map((t) => t.data())))) as Float32Array[];
    } catch (err) {
      step = plan.throw(err);
      continue;
    }
    step = plan.next(values);
  }
  return step.value;
}
