/**
 * Skipping the first fraction f of the reverse process (the paper's Figure 3, skipFraction.ts): f = 0 is
 * today's sampler bit for bit; f > 0 calls the network only at original steps below (1 − f)·T, still K
 * times, starting from pure noise; impossible settings are refused with the field named.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { withDefaults } from '../../src-shared/config/runConfig';
import { skipFractionProblem, stepsAfterSkip } from '../../src-shared/diffusion/skipFraction';
import { pSampleLoop } from '../../src-main/engine/diffusion/ancestral';
import { ddimSampleLoop } from '../../src-main/engine/diffusion/ddim';
import type { DenoiseModel } from '../../src-main/engine/diffusion/diffusion';
import { diffusionFromConfig, respacedDiffusion } from '../../src-main/engine/diffusion/fromConfig';
import { Rng, rngNoise } from '../../src-main/engine/rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A model whose output depends on x and t (so a changed schedule changes the image), recording the t it is given. */
function recordingModel(outChannels: number): { model: DenoiseModel; seen: number[] } {
  const seen: number[] = [];
  const model: DenoiseModel = (x, t) => {
    seen.push(t.dataSync()[0]);
    return tf.tidy(() => {
      const eps = tf.mul(tf.sin(tf.add(x, tf.reshape(tf.div(t, 1000), [-1, 1, 1, 1]))), 0.5);
      return (outChannels === x.shape[3] ? eps : tf.concat([eps, tf.zerosLike(eps)], 3)) as tf.Tensor4D;
    });
  };
  return { model, seen };
}

const config = getPreset('tiny-test').config; // T = 50, learned Σ (the network outputs 2 channels)
const base = diffusionFromConfig(config);
const T = config.diffusion.steps;
const shape: [number, number, number, number] = [2, 4, 4, 1];

async function sample(d: ReturnType<typeof respacedDiffusion>, ddim: boolean): Promise<{ pixels: Float32Array; seen: number[] }> {
  const { model, seen } = recordingModel(2);
  const opts = { shape, noiseSource: rngNoise(new Rng(7)) };
  const x = ddim ? await ddimSampleLoop(d, model, { ...opts, eta: 0 }) : await pSampleLoop(d, model, opts);
  const pixels = x.dataSync() as Float32Array;
  x.dispose();
  return { pixels, seen };
}

describe('skipFraction', () => {
  it('⌊(1−f)·T⌋ without float noise, and refuses fractions outside [0, 1) naming the field', () => {
    expect(stepsAfterSkip(1000, 0.3)).toBe(700); // (1 − 0.3)·1000 is 699.99… in float64
    expect(stepsAfterSkip(1000, 0)).toBe(1000);
    expect(stepsAfterSkip(50, 0.25)).toBe(37);
    expect(skipFractionProblem(0.2, 50)).toBeNull();
    expect(skipFractionProblem(1, 50)).toMatch(/^skipFraction must be a number in \[0, 1\)/);
    expect(skipFractionProblem(-0.1, 50)).toMatch(/^skipFraction/);
    expect(skipFractionProblem(0.999, 50)).toMatch(/^skipFraction 0\.999 leaves no step of the model's T = 50/);
  });

  for (const ddim of [false, true]) {
    const spec = ddim ? 'ddim10' : '10';
    it(`${ddim ? 'DDIM' : 'ancestral'}: f = 0 is today's sampler bit for bit`, async () => {
      const today = await sample(respacedDiffusion(base, spec), ddim);
      const zero = await sample(respacedDiffusion(base, spec, 0), ddim);
      expect(zero.seen).toEqual(today.seen);
      expect(Buffer.from(zero.pixels.buffer).equals(Buffer.from(today.pixels.buffer))).toBe(true);
    });

    it(`${ddim ? 'DDIM' : 'ancestral'}: f = 0.2 makes K calls, all at original steps < (1−f)·T, from the top of what is left`, async () => {
      const f = 0.2;
      const d = respacedDiffusion(base, spec, f);
      const { seen, pixels } = await sample(d, ddim);
      expect(seen).toHaveLength(10);
      // The network sees the original step scaled by 1000/T (SPEC §7): undo it.
      const steps = seen.map((v) => Math.round((v * T) / 1000));
      expect(Math.max(...steps)).toBeLessThan((1 - f) * T);
      expect(steps[0]).toBe(d.process.timestepMap.at(-1));
      expect(d.process.timestepMap.every((s) => s < 40)).toBe(true);
      expect(d.process.originalNumSteps).toBe(T);
      // ᾱ at a kept step is the original one: the process is the same, only its start moved.
      const s = d.process.timestepMap.at(-1)!;
      expect(d.process.alphasCumprod.at(-1)).toBeCloseTo(base.process.alphasCumprod[s], 12);
      const today = await sample(respacedDiffusion(base, spec), ddim);
      expect(Buffer.from(pixels.buffer).equals(Buffer.from(today.pixels.buffer))).toBe(false);
    });
  }

  it('more steps than the skip leaves, or a DDIM count no stride of the rest gives, is refused', () => {
    expect(() => respacedDiffusion(base, '45', 0.2)).toThrow(/cannot take 45 steps/);
    expect(() => respacedDiffusion(base, 'ddim30', 0.2)).toThrow(/cannot create exactly 30 steps/);
    expect(() => respacedDiffusion(base, '10', 1)).toThrow(/skipFraction must be a number in \[0, 1\)/);
    // A linear-schedule model skips the same way.
    const linear = diffusionFromConfig(withDefaults({ diffusion: { steps: 100, noiseSchedule: 'linear' } }));
    expect(respacedDiffusion(linear, '20', 0.5).process.timestepMap.at(-1)).toBe(49);
  });
});
