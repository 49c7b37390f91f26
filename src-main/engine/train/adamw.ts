/**
 * AdamW on a flat parameter vector, step for step as PyTorch's torch.optim.AdamW (the reference's
 * optimizer): decoupled weight decay first, then bias-corrected Adam with eps added after the square root.
 *
 * With the native kernels loaded (wasm/cpu backends) the update is one multi-threaded native pass over the flat
 * vector instead of a dozen single-threaded tfjs kernels; it performs the same float32 operations in the same
 * order, so the results are bit-identical (test/native/optimizer.test.ts). `useNative = false` forces tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { activeNative, runNative } from '../ops/native';
import { timed } from '../ops/opTimer';

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWSettings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export class AdamW {
  /** Number of updates applied so far (PyTorch's `step` of the param state). */
  step = 0;
  m: tf.Tensor1D;
  v: tf.Tensor1D;
  /** Use the native kernels when they are loaded (default); false: tfjs's ops always. */
  useNative = true;
  /**
   * Σ grad² of the last `apply`, when the native pass read it on the way (null on the tfjs path, or with an addon
   * built before it returned it): the trainer's gradient norm without a pass of its own.
   */
  lastGradSq: number | null = null;

  constructor(
    size: number,
    readonly settings: AdamWSettings = ADAMW_DEFAULTS,
  ) {
    this.m = tf.zeros([size]);
    this.v = tf.zeros([size]);
  }

  /** Returns the updated parameters; the caller disposes the old ones. */
  apply(params: tf.Tensor1D, grad: tf.Tensor1D, lr: number): tf.Tensor1D {
    const { beta1, beta2, eps, weightDecay } = this.settings;
    this.step += 1;
    const biasCorrection1 = 1 - beta1 ** this.step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** this.step);
    const stepSize = lr / biasCorrection1;
    const addon = this.nativeAddon();
    this.lastGradSq = null;
    if (addon?.adamwStep) {
      const n = params.size;
      const decay = weightDecay !== 0 ? 1 - lr * weightDecay : 1; // ·1 is exact: the same as no decay
      const [next, m, v] = timed('native adamw', () =>
        runNative([params, grad, this.m, this.v], [[n], [n], [n]], ([p, g, m0, v0], [pOut, mOut, vOut]) => {
          const sq = addon.adamwStep!(p!, g!, m0!, v0!, pOut, mOut, vOut, beta1, beta2, eps, decay, biasCorrection2Sqrt, stepSize);
          if (typeof sq === 'number') this.lastGradSq = sq;
        }),
      ) as tf.Tensor1D[];
      this.m.dispose();
      this.v.dispose();
      this.m = m;
      this.v = v;
      return next;
    }
    const [m, v, next] = tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, beta1), tf.mul(grad, 1 - beta1)) as tf.Tensor1D;
      const v = tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(grad), 1 - beta2)) as tf.Tensor1D;
      const decayed = weightDecay !== 0 ? tf.mul(params, 1 - lr * weightDecay) : params;
      const denom = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), eps);
      const next = tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)) as tf.Tensor1D;
      return [m, v, next];
    });
    this.m.dispose();
    this.v.dispose();
    this.m = m;
    this.v = v;
    return next;
  }

  /** The addon when `apply` runs natively now. */
  private nativeAddon() {
    return this.useNative ? activeNative() : null;
  }

  /** Whether `apply` will report Σ grad² (lastGradSq) on the way, so a caller can skip its own pass. */
  readsGradSq(): boolean {
    return Boolean(this.nativeAddon()?.adamwStep);
  }

  restore(step: number, m: Float32Array, v: Float32Array): void {
    if (m.length !== this.m.size || v.length !== this.v.size) {
      throw new Error(`optimizer state has ${m.length} values; the model has ${this.m.size} parameters`);
    }
    this.dispose();
    this.step = step;
    this.m = tf.tensor1d(m);
    this.v = tf.tensor1d(v);
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
