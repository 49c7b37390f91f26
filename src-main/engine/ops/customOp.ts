import * as tf from '@tensorflow/tfjs';

/**
 * One op with its own gradient, typed: `forward(save)` returns the value and the backward function, which gets
 * dy and the tensors saved for it, and returns one gradient per input (same order and shapes).
 *
 * Unlike bare tf.customGrad, the backward pass runs inside tf.tidy, so its intermediates are freed at once instead
 * of living until the whole backward pass ends. Save what backward needs with `save` (never close over forward
 * tensors: the forward scope disposes them). Without an active gradient tape `save` keeps nothing.
 *
 * Memory: tfjs's backward pass frees neither the tensors the tape saved nor the incoming gradients until the whole
 * pass ends, so its peak is every saved activation plus the gradient of every activation. Each node's saved
 * tensors and its dy are read by this node's gradient alone (tfjs walks the tape once, and a dy is the fully
 * accumulated gradient of this op's output), so the gradient frees them as soon as it has run; an activation
 * goes when its last reader has run. So an op's gradient cannot be asked for twice (no higher-order gradients,
 * which nothing here takes), and a dy handed to tf.grad for this op's output is consumed.
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
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const grads = tf.tidy(() => backward(dy as T, saved));
        for (const t of saved) t.dispose();
        if (dy instanceof tf.Tensor && !grads.includes(dy)) dy.dispose();
        return grads;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs) as T;
}
