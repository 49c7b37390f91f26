/**
 * Model space [−1, 1] → 8-bit pixels. The reference truncates ((x+1)·127.5, clamped to [0, 255], then
 * cast to uint8); the studio does the same so exported images match reference samples bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { guardGpuRead } from '../backend/webgpu';

export function toUint8Images(x: tf.Tensor): Uint8Array {
  return valuesToUint8(x.dataSync() as Float32Array);
}

/** `toUint8Images` with an asynchronous read: works on every backend, webgpu included. */
export async function readUint8Images(x: tf.Tensor): Promise<Uint8Array> {
  return valuesToUint8((await guardGpuRead(x.data())) as Float32Array);
}

function valuesToUint8(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = (values[i] + 1) * 127.5;
    out[i] = v <= 0 || Number.isNaN(v) ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return out;
}
