/**
 * Timestep samplers for training (SPEC §5). Pure float64 JavaScript: the weights are small (T values)
 * and the loss-second-moment history must match the reference exactly.
 */
import type { TimestepSamplerName } from '../../src-shared/diffusion/types';
import type { Rng } from './rng';

export interface TimestepDraw {
  /** Sampled steps, one per sample. */
  t: number[];
  /** Per-sample loss weight 1/(T·p_t), so that the weighted mean is unbiased. */
  weights: Float64Array;
}

export interface TimestepSampler {
  readonly name: TimestepSamplerName;
  readonly numSteps: number;
  /** Unnormalised sampling weights over t. */
  weights(): Float64Array;
  /** Feed the unweighted per-sample losses of a step (ignored by the uniform sampler). */
  update(t: readonly number[], losses: ArrayLike<number>): void;
  /** Serialisable state for checkpoints. */
  state(): TimestepSamplerState;
}

export interface TimestepSamplerState {
  name: TimestepSamplerName;
  /** loss-second-moment only: history [T × historyPerTerm], row-major, and counts per t. */
  history?: number[];
  counts?: number[];
}

/**
 * numpy's pairwise summation for float64 (blocks of 8 partial sums), so that sums of weights agree
 * with the reference to the last bit.
 */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** Draws B steps with p = w/Σw and returns the importance weights 1/(T·p_t). */
export function drawTimesteps(sampler: TimestepSampler, batch: number, rng: Rng): TimestepDraw {
  const w = sampler.weights();
  const total = pairwiseSum(w);
  const p = w.map((v) => v / total);
  const t: number[] = [];
  const weights = new Float64Array(batch);
  for (let i = 0; i < batch; i++) {
    const s = rng.categorical(p);
    t.push(s);
    weights[i] = 1 / (p.length * p[s]);
  }
  return { t, weights };
}

/** Every step equally likely. */
export class UniformSampler implements TimestepSampler {
  readonly name = 'uniform' as const;
  constructor(readonly numSteps: number) {}
  weights(): Float64Array {
    return new Float64Array(this.numSteps).fill(1);
  }
  update(): void {}
  state(): TimestepSamplerState {
    return { name: this.name };
  }
}

/**
 * Importance sampling by the loss's second moment (paper §3.3): p_t ∝ √E[L_t²] over the last 10 losses
 * of each t, mixed with a little uniform; uniform until every t has its 10 values.
 */
export class LossSecondMomentSampler implements TimestepSampler {
  readonly name = 'loss-second-moment' as const;
  private readonly history: Float64Array;
  private readonly counts: Int32Array;

  constructor(
    readonly numSteps: number,
    readonly historyPerTerm = 10,
    readonly uniformProb = 0.001,
  ) {
    this.history = new Float64Array(numSteps * historyPerTerm);
    this.counts = new Int32Array(numSteps);
  }

  warmedUp(): boolean {
    return this.counts.every((c) => c === this.historyPerTerm);
  }

  weights(): Float64Array {
    const T = this.numSteps;
    if (!this.warmedUp()) return new Float64Array(T).fill(1);
    const h = this.historyPerTerm;
    const w = new Float64Array(T);
    const squares = new Float64Array(h);
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < h; k++) squares[k] = this.history[t * h + k] ** 2;
      w[t] = Math.sqrt(pairwiseSum(squares) / h);
    }
    const total = pairwiseSum(w);
    for (let t = 0; t < T; t++) {
      w[t] /= total;
      w[t] *= 1 - this.uniformProb;
      w[t] += this.uniformProb / T;
    }
    return w;
  }

  update(ts: readonly number[], losses: ArrayLike<number>): void {
    const h = this.historyPerTerm;
    ts.forEach((t, i) => {
      const loss = losses[i];
      if (!Number.isFinite(loss)) return; // a NaN would poison the weights for good
      const row = t * h;
      if (this.counts[t] === h) {
        this.history.copyWithin(row, row + 1, row + h);
        this.history[row + h - 1] = loss;
      } else {
        this.history[row + this.counts[t]] = loss;
        this.counts[t] += 1;
      }
    });
  }

  /** History row of t (oldest first) and how many entries it holds. */
  historyOf(t: number): { values: Float64Array; count: number } {
    const h = this.historyPerTerm;
    return { values: this.history.slice(t * h, t * h + h), count: this.counts[t] };
  }

  state(): TimestepSamplerState {
    return { name: this.name, history: Array.from(this.history), counts: Array.from(this.counts) };
  }

  restore(state: TimestepSamplerState): void {
    if (state.name !== this.name || !state.history || !state.counts) {
      throw new Error(`timestep sampler state is for '${state.name}', not '${this.name}'`);
    }
    if (state.history.length !== this.history.length || state.counts.length !== this.counts.length) {
      throw new Error(
        `timestep sampler state has ${state.counts.length} steps; this run has ${this.numSteps}`,
      );
    }
    this.history.set(state.history);
    this.counts.set(state.counts);
  }
}

export function createTimestepSampler(name: TimestepSamplerName, numSteps: number): TimestepSampler {
  switch (name) {
    case 'uniform':
      return new UniformSampler(numSteps);
    case 'loss-second-moment':
      return new LossSecondMomentSampler(numSteps);
    default:
      throw new Error(`unknown timestep sampler '${String(name)}' (use 'uniform' or 'loss-second-moment')`);
  }
}
