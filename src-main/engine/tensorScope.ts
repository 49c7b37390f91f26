/**
 * Typed wrappers of tfjs's memory scope and custom gradients. tf.tidy only types TensorContainer
 * results, and tf.customGrad's types mix tensors and the save function; these keep call sites typed.
 */
import * as tf from '@tensorflow/tfjs';

/** tf.tidy for any result made of tensors (objects with tensor fields, arrays, a tensor). */
export function tidy<R>(fn: () => R): R {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as R;
}

export interface UnaryGradResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor;
}

/** A one-input op with its own gradient; `save` keeps tensors for the backward pass. */
export function unaryCustomGrad<T extends tf.Tensor = tf.Tensor>(
  fn: (x: tf.Tensor, save: tf.GradSaveFunc) => UnaryGradResult,
): (x: T) => T {
  return tf.customGrad(fn as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: T) => T;
}

/**
 * Whether the active backend keeps tensor data in this process's memory ('wasm': its heap; 'cpu': JS arrays), so
 * it can be read, written and shared in place without a kernel.
 */
export function hostMemoryBackend(): boolean {
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu';
}

/**
 * A second tensor on `t`'s buffer (the backend's reference count, as Reshape does; tensors are immutable), made
 * without running a kernel, so no gradient tape records it: nothing flows back through it to `t`. 'wasm' and 'cpu'
 * only (the backends whose reference counting this relies on); null elsewhere.
 */
export function sharedHandle(t: tf.Tensor): tf.Tensor | null {
  if (!hostMemoryBackend()) return null;
  tf.backend().incRef(t.dataId);
  return tf.engine().makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
}
