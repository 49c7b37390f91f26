import * as tf from '@tensorflow/tfjs';
import { hostMemoryBackend, sharedHandle } from '../tensorScope';

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
 *
 * Saving on 'wasm' and 'cpu': tfjs's own save runs a tf.clone per tensor (an Identity kernel plus a tape node of
 * its own, ~5 per op, ~300 per training step of a small UNet). Here a saved tensor is a second handle on the same
 * buffer (the backend's reference count, as Reshape does; tensors are immutable), put on this op's tape node so
 * that tfjs frees it with the tape as it frees its own clones when the gradient never runs. Same data, no kernels.
 */
export function customOp<T extends tf.Tensor>(
  inputs: tf.Tensor[],
  forward: (save: (tensors: tf.Tensor[]) => void) => {
    value: T;
    backward: (dy: T, saved: tf.Tensor[]) => tf.Tensor[];
  },
): T {
  const engine = tf.engine();
  // Decided here, outside the kernel: inside it the tape is always off. The same test tfjs's save makes.
  const shareSaved = hostMemoryBackend() && engine.isTapeOn();
  let shared: tf.Tensor[] = [];
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, backward } = forward((ts) => {
      if (!shareSaved) return save(ts);
      tf.dispose(shared);
      shared = ts.map(shareHandle);
    });
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
  let out: T;
  try {
    out = op(...inputs) as T;
  } catch (err) {
    tf.dispose(shared);
    throw err;
  }
  if (shared.length > 0) attachToTapeNode(engine, out, shared);
  return out;
}

/** A new tensor on `t`'s buffer, kept from the enclosing scopes as tfjs keeps its saved clones. */
function shareHandle(t: tf.Tensor): tf.Tensor {
  return tf.keep(sharedHandle(t)!);
}

/**
 * Puts the saved handles into the tape node tfjs just recorded for `out` (the last one: the node is pushed after the
 * op's forward has run). That array is the one tfjs hands the gradient as `saved` and disposes with the tape.
 */
function attachToTapeNode(engine: ReturnType<typeof tf.engine>, out: tf.Tensor, saved: tf.Tensor[]): void {
  const tape = engine.state.activeTape;
  const node = tape?.[tape.length - 1];
  if (!node || node.outputs[0] !== out || !Array.isArray(node.saved)) {
    tf.dispose(saved);
    throw new Error('customOp: the gradient tape has no node for this op (an incompatible tfjs version?)');
  }
  node.saved.push(...saved);
}
