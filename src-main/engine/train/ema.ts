/**
 * Exponential moving averages of the parameters, one per rate: θ_ema ← r·θ_ema + (1−r)·θ after every
 * step, initialised as a copy of θ (SPEC §8). Sampling usually uses an EMA, which is far smoother.
 * With the warm-up the rate at step k is min(r, (1+k)/(10+k)) (src-shared/emaWeights.ts); the step is the
 * trainer's, which checkpoints keep, so a resumed run applies the same rates.
 * With the native kernels loaded the update is one multi-threaded native pass per rate, bit-identical to the
 * tfjs ops (test/native/optimizer.test.ts); `useNative = false` forces tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { effectiveEmaRate } from '../../../src-shared/emaWeights';
import { activeNative, runNative } from '../ops/native';
import { timed } from '../ops/opTimer';

export class EmaSet {
  readonly values = new Map<number, tf.Tensor1D>();
  /** Use the native kernels when they are loaded (default); false: tfjs's ops always. */
  useNative = true;

  constructor(rates: readonly number[], params: tf.Tensor1D) {
    for (const r of rates) {
      if (!(r > 0 && r < 1)) throw new Error(`EMA rate ${r} must be in (0, 1)`);
      this.values.set(r, params.clone());
    }
  }

  get rates(): number[] {
    return [...this.values.keys()];
  }

  /** One update after the optimisation step `step` (zero-based); `warmup` as the run's config says. */
  update(params: tf.Tensor1D, step: number, warmup: boolean): void {
    const addon = this.useNative ? activeNative() : null;
    for (const [rate, old] of this.values) {
      const r = effectiveEmaRate(rate, step, warmup);
      const next = addon?.emaUpdate
        ? (timed('native ema', () => runNative([old, params], [[params.size]], ([e, p], [out]) => addon.emaUpdate!(e!, p!, out, r)))[0] as tf.Tensor1D)
        : tf.tidy(() => tf.add(tf.mul(old, r), tf.mul(params, 1 - r)) as tf.Tensor1D);
      old.dispose();
      this.values.set(rate, next);
    }
  }

  get(rate: number): tf.Tensor1D {
    const v = this.values.get(rate);
    if (!v) throw new Error(`no EMA with rate ${rate} (this run keeps ${this.rates.join(', ') || 'none'})`);
    return v;
  }

  restore(rate: number, values: Float32Array): void {
    const old = this.get(rate);
    if (old.size !== values.length) throw new Error(`EMA ${rate} has ${values.length} values; the model has ${old.size} parameters`);
    old.dispose();
    this.values.set(rate, tf.tensor1d(values));
  }

  dispose(): void {
    for (const v of this.values.values()) v.dispose();
    this.values.clear();
  }
}
