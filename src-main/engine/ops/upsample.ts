import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';

/**
 * Nearest-neighbour ×2 upsampling, NHWC. On 'wasm' and 'cpu' `upsampleNearest2xFast`, elsewhere
 * `upsampleNearest2xPlain`.
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  return useFastKernels() ? upsampleNearest2xFast(x) : upsampleNearest2xPlain(x);
}

/**
 * Built from reshape + rank-3 tiles: the cpu backend's ResizeNearestNeighborGrad is wrong for batch > 1
 * (TFJS-CPU-NOTES.md), and tfjs has no Tile gradient above rank 4, so each axis is doubled by its own
 * rank-3 tile (exact gradients on every backend).
 */
export function upsampleNearest2xPlain(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const cols = tf.tile(tf.reshape(x, [b * h * w, 1, c]), [1, 2, 1]); // each pixel twice: [B·H·W, 2, C]
    const rows = tf.tile(tf.reshape(cols, [b * h, 1, 2 * w * c]), [1, 2, 1]); // each row twice: [B·H, 2, 2W·C]
    return tf.reshape(rows, [b, 2 * h, 2 * w, c]) as tf.Tensor4D;
  });
}

/**
 * Same value with its own gradient, both without Tile (wasm's Tile takes ~100 ms for 1M elements):
 *  - forward: wasm: a broadcast multiply by ones [1,1,2,1,2,1] (XNNPACK); cpu: ResizeNearestNeighbor, whose
 *    forward is exact (only its gradient is wrong for batch > 1);
 *  - backward: each 2×2 block of dy summed by a 2×2 average pool times 4 (exact: ×4 and ×¼ are powers of two).
 */
export function upsampleNearest2xFast(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  return customOp<tf.Tensor4D>([x], () => ({
    value: tf.tidy(() =>
      tf.getBackend() === 'cpu'
        ? tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w])
        : tf.reshape(tf.mul(tf.reshape(x, [b, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1])), [b, 2 * h, 2 * w, c]),
    ) as tf.Tensor4D,
    backward: (dy) => [tf.mul(tf.avgPool(dy, 2, 2, 'valid'), 4)],
  }));
}
