/**
 * Refuses weights that are not finite numbers. A NaN or an infinity in a checkpoint (bytes damaged on a
 * file without a checksum, or a program that wrote one) otherwise loads silently: sampling draws black
 * images and evaluation prints "NLL NaN". The trainer never applies a step with a non-finite loss, so a
 * checkpoint it wrote holds only finite values.
 */
import type { NamedArray } from '../../imageio/safetensors';

/** Throws, naming the file, the tensor and the first bad value, when a float tensor holds NaN or ±Inf. */
export function assertFiniteTensors(tensors: ReadonlyMap<string, NamedArray>, file: string): void {
  for (const [name, t] of tensors) {
    if (t.dtype !== 'F32' && t.dtype !== 'F64') continue;
    const data = t.data as Float32Array | Float64Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      // v - v is 0 for every finite v and NaN for NaN and ±Inf: one test for both.
      if (v - v !== 0) {
        throw new Error(
          `checkpoint ${file}: tensor ${name} holds ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} (at index ${i} of ${data.length}), so its weights cannot be used: the file is damaged or was written from a diverged model; use an earlier checkpoint`,
        );
      }
    }
  }
}
