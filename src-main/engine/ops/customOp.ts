import * as tf from '@tensorflow/tfjs';

/**
 * One op with its own gradient, typed: `forward(save)` returns the value and the backward function, which gets
 * dy and the tensors saved for it, and returns one gradient per input (same order and shapes).
 *
 * Unlike bare tf.customGrad, the backward pass runs inside tf.tidy, so its intermediates are freed at once instead
 * of living until the whole backward pass ends. Save what backward needs with `save` (never close over forward
 * tensors: the forward scope disposes them). Without an active gradient tape `save` keeps nothing.
 */
export function customOp<T extends tf.Tensor>(
  inputs: tf.Tensor[],
  forward: (save: (tensors: tf.Tensor[]) => void) => {
    value: T;
    backward: (dy: T, saved: tf.Tensor[]) => tf.Tensor[];
  },
): T {
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, backward } = forward((ts) => save(ts));
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => backward(dy as T, saved)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs) as T;
}
