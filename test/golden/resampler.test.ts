import { describe, expect, it } from 'vitest';
import { Rng } from '../../src-main/engine/rng';
import { drawTimesteps, LossSecondMomentSampler, pairwiseSum, UniformSampler } from '../../src-main/engine/timestepSampler';
import { golden } from './goldenFile';

describe('golden: loss-second-moment resampler', () => {
  const g = golden().resampler_loss_second_moment;

  it(`T=${g.T}: weights, p and 1/(T·p) after every update, and the final history, exactly`, () => {
    const sampler = new LossSecondMomentSampler(g.T, g.history_per_term, g.uniform_prob);
    // feed[i] are update calls in order; snapshots are named after_round_<k>[_minus_tN], one per call.
    const snapshots = Object.entries<any>(g.snapshots);
    expect(snapshots.length).toBe(g.feed.length);
    g.feed.forEach((call: { ts: number[]; losses: number[] }, i: number) => {
      sampler.update(call.ts, call.losses);
      const [name, snap] = snapshots[i];
      expect(sampler.warmedUp(), `${name}: warmed up`).toBe(snap.warmed_up);
      const w = sampler.weights();
      expect(Array.from(w), `${name}: weights`).toEqual(snap.weights);
      if (snap.p) {
        const total = pairwiseSum(w);
        const p = Array.from(w, (v) => v / total);
        expect(p, `${name}: p`).toEqual(snap.p);
        expect(p.map((v) => 1 / (g.T * v)), `${name}: 1/(T·p)`).toEqual(snap.importance_weight_1_over_Tp);
      }
    });
    const [rows, cols] = g.final_loss_history.shape;
    for (let t = 0; t < rows; t++) {
      const { values, count } = sampler.historyOf(t);
      expect(count).toBe(g.final_loss_counts[t]);
      expect(Array.from(values)).toEqual(g.final_loss_history.data.slice(t * cols, (t + 1) * cols));
    }
  });
});

describe('timestep draws', () => {
  it('uniform draws cover every step with weight 1', () => {
    const rng = new Rng(7);
    const draw = drawTimesteps(new UniformSampler(5), 2000, rng);
    expect(new Set(draw.t)).toEqual(new Set([0, 1, 2, 3, 4]));
    expect(Array.from(draw.weights).every((w) => w === 1)).toBe(true);
  });

  it('importance draws follow p and weight each sample by 1/(T·p)', () => {
    const T = 4;
    const sampler = new LossSecondMomentSampler(T, 10, 0.001);
    for (let k = 0; k < 10; k++) sampler.update([0, 1, 2, 3], [1, 1, 1, 5]);
    const rng = new Rng(11);
    const draw = drawTimesteps(sampler, 20000, rng);
    const w = sampler.weights();
    const p = Array.from(w, (v) => v / pairwiseSum(w));
    const freq3 = draw.t.filter((t) => t === 3).length / draw.t.length;
    expect(Math.abs(freq3 - p[3])).toBeLessThan(0.02);
    const i = draw.t.indexOf(3);
    expect(draw.weights[i]).toBeCloseTo(1 / (T * p[3]), 12);
    // The weighted loss is unbiased: E[w·L] equals the plain mean over t.
    const losses = [1, 1, 1, 5];
    const estimate = draw.t.reduce((s, t, j) => s + draw.weights[j] * losses[t], 0) / draw.t.length;
    expect(Math.abs(estimate - 2)).toBeLessThan(0.05);
  });

  it('the sampler state restores exactly', () => {
    const a = new LossSecondMomentSampler(3, 2);
    a.update([0, 1, 2, 0, 1, 2, 0], [1, 2, 3, 4, 5, 6, 7]);
    const b = new LossSecondMomentSampler(3, 2);
    b.restore(a.state());
    expect(b.weights()).toEqual(a.weights());
    expect(() => new LossSecondMomentSampler(4, 2).restore(a.state())).toThrow(/has 3 steps; this run has 4/);
  });
});

describe('Rng', () => {
  it('is reproducible from a seed and from its saved state', () => {
    const a = new Rng(123);
    a.normalArray(5);
    const saved = a.state();
    const next = Array.from(a.normalArray(7));
    const b = new Rng(saved);
    expect(Array.from(b.normalArray(7))).toEqual(next);
    expect(Array.from(new Rng(123).normalArray(3))).toEqual(Array.from(new Rng(123).normalArray(3)));
    expect(Array.from(new Rng(124).normalArray(3))).not.toEqual(Array.from(new Rng(123).normalArray(3)));
  });

  it('draws standard normals', () => {
    const xs = new Rng(5).normalArray(200000);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.01);
  });
});
