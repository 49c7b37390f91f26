import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';
import { activeNative, runNative } from './native';
import { timed } from './opTimer';

/**
 * Concatenation of two NHWC tensors along the channel axis (the UNet's skip connections). With the native
 * kernels loaded, forward and gradient are multi-threaded row copies (tfjs's Concat and its SplitV gradient run
 * on one thread); otherwise tf.concat. Copies either way, so the values are the same bits.
 */
export function concatChannels(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const nat = useFastKernels() ? activeNative() : null;
  if (!nat?.concatChannels || !nat.splitChannels || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return tf.concat([a, b], 3) as tf.Tensor4D;
  }
  const [n, h, w, ca] = a.shape;
  const [n2, h2, w2, cb] = b.shape;
  if (n !== n2 || h !== h2 || w !== w2) {
    throw new Error(`concatChannels: shapes [${a.shape}] and [${b.shape}] differ outside the channel axis`);
  }
  const rows = n * h * w;
  return customOp<tf.Tensor4D>([a, b], () => ({
    value: timed('native concat', () => runNative([a, b], [[n, h, w, ca + cb]], ([x, y], [out]) => nat.concatChannels!(x!, y!, out, rows, ca, cb))[0] as tf.Tensor4D),
    backward: (dy) => timed('native split (concat bwd)', () => runNative([dy], [[n, h, w, ca], [n, h, w, cb]], ([g], [ga, gb]) => nat.splitChannels!(g!, ga, gb, rows, ca, cb))),
  }));
}
