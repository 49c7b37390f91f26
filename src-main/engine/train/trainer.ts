/**
 * One training run on any backend, in any process: AdamW, lr anneal, EMA, microbatches, the three
 * objectives, both timestep samplers, dropout and seeded randomness (SPEC §4, §5, §8). It reports through
 * typed events and persists nothing; `snapshot()` gives everything a checkpoint needs.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../../src-shared/config/runConfig';
import type { Diffusion } from '../diffusion/diffusion';
import { diffusionFromConfig, respacedDiffusion } from '../diffusion/fromConfig';
import { trainingLosses } from '../diffusion/losses';
import { pSampleLoop } from '../diffusion/ancestral';
import { calcBpdLoop } from '../diffusion/nll';
import { checkpointLoop } from '../diffusion/loopControl';
import { Rng, rngNoise, type RngState } from '../rng';
import { tidy } from '../tensorScope';
import { createTimestepSampler, drawTimesteps, LossSecondMomentSampler, type TimestepSampler, type TimestepSamplerState } from '../timestepSampler';
import { buildLayout, type UNetLayout } from '../unet/layout';
import { unetForward } from '../unet/forward';
import { unetSpecFromConfig } from '../unet/spec';
import { initWeights, disposeWeights, type WeightMap } from '../unet/weights';
import { AdamW } from './adamw';
import { BatchOrder } from '../../../src-shared/dataOrder';
import { chunkSize } from '../../../src-shared/gradientNoiseScale';
import { EmaSet } from './ema';
import type { StepEvent, TrainEvent, TrainEventHandler } from './events';
import { flatLayout, flatten, unflatten, valueAndFlatGrad, type FlatLayout } from './flatParams';
import { GradientNoiseScale, smallBatchStats, type GnsState } from './gradientNoiseScale';
import { quartileMeans } from './lossQuartiles';
import type { TrainingData } from '../../../src-shared/trainingData';
import { readUint8Images } from './images';
import { readAsync, readSync, type Reads } from './readback';
import { defaultWeights, type WeightsChoice } from '../../../src-shared/emaWeights';

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainerSnapshot {
  config: RunConfig;
  step: number;
  params: Float32Array;
  ema: Map<number, Float32Array>;
  adam: { step: number; m: Float32Array; v: Float32Array };
  sampler: TimestepSamplerState;
  /** Generator states, or plain seeds for a run whose generators start here (a converted reference checkpoint). */
  rng: { train: RngState | number; dropout: RngState | number };
  gns: GnsState;
  nan: { total: number; consecutive: number };
}

export class TrainingStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingStoppedError';
  }
}

export interface TrainerOptions {
  onEvent?: TrainEventHandler;
  /** Stop with an error after this many non-finite losses in a row (default 20). */
  maxConsecutiveNan?: number;
  /** Include the sampler's weights in the step event every this many steps (default 50, and step 1). */
  samplerWeightsEvery?: number;
  /** Steps of t evaluated for the per-t VLB terms (default 50 strided steps; T for the full bound). */
  vlbTimesteps?: number;
  /** Held-out images used for the per-t VLB terms (default 16). */
  vlbImages?: number;
}

export class Trainer {
  readonly layout: UNetLayout;
  readonly diffusion: Diffusion;
  private readonly flat: FlatLayout;
  private params: tf.Tensor1D;
  private readonly adam: AdamW;
  private readonly ema: EmaSet;
  private readonly sampler: TimestepSampler;
  private readonly trainRng: Rng;
  private readonly dropoutRng: Rng;
  private readonly order: BatchOrder;
  private readonly gns = new GradientNoiseScale();
  private nan = { total: 0, consecutive: 0 };
  step = 0;
  private disposed = false;

  private constructor(
    readonly config: RunConfig,
    readonly data: TrainingData,
    private readonly options: TrainerOptions,
    restore?: TrainerSnapshot,
  ) {
    const m = config.model;
    if (data.size !== m.imageSize || data.channels !== m.imageChannels) {
      throw new Error(
        `the dataset gives ${data.size}×${data.size}×${data.channels} images; the model expects ${m.imageSize}×${m.imageSize}×${m.imageChannels}`,
      );
    }
    this.layout = buildLayout(unetSpecFromConfig(config));
    this.diffusion = diffusionFromConfig(config);
    this.flat = flatLayout(this.layout);
    const seed = config.training.seed;
    this.trainRng = new Rng(restore?.rng.train ?? seed);
    this.dropoutRng = new Rng(restore?.rng.dropout ?? seed + 1);
    this.order = new BatchOrder(data.trainCount, seed);
    const initial = initWeights(this.layout, new Rng(seed + 2));
    this.params = flatten(this.flat, initial);
    disposeWeights(initial);
    this.adam = new AdamW(this.flat.total, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: config.training.weightDecay });
    this.ema = new EmaSet(config.training.emaRates, this.params);
    this.sampler = createTimestepSampler(config.training.timestepSampler, config.diffusion.steps);
    if (restore) this.restore(restore);
  }

  static create(config: RunConfig, data: TrainingData, options: TrainerOptions = {}, restore?: TrainerSnapshot): Trainer {
    return new Trainer(config, data, options, restore);
  }

  private emit(e: TrainEvent): void {
    this.options.onEvent?.(e);
  }

  /** Learning rate at the current step, with the optional linear anneal to 0. */
  learningRate(): number {
    const { lr, lrAnnealSteps } = this.config.training;
    if (!lrAnnealSteps) return lr;
    return lr * Math.max(0, 1 - this.step / lrAnnealSteps);
  }

  /** One optimisation step. Returns its event, or null when the loss was not finite and the step skipped. Not on webgpu. */
  trainStep(): StepEvent | null {
    return readSync(this.stepPlan());
  }

  /** `trainStep` reading its values asynchronously: works on every backend, webgpu included. */
  trainStepAsync(): Promise<StepEvent | null> {
    return readAsync(this.stepPlan());
  }

  /** The step, yielding the tensors whose values it needs (see ./readback.ts). */
  private *stepPlan(): Reads<StepEvent | null> {
    this.assertLive();
    const started = performance.now();
    const cfg = this.config;
    const B = cfg.training.batchSize;
    const { size, channels } = this.data;
    const isGnsStep = cfg.intervals.gnsEvery > 0 && (this.step + 1) % cfg.intervals.gnsEvery === 0 && B >= 2;
    // The noise scale needs gradients of two batch sizes: on its steps, split the batch if needed.
    const micro = chunkSize(cfg.training, isGnsStep);

    // Batch k is a function of (seed, k): resuming needs no data position.
    const indices = Array.from(this.order.batchAt(this.step, B));
    const draw = drawTimesteps(this.sampler, B, this.trainRng);
    const pixels = this.data.trainBatch(indices);
    const noiseSource = rngNoise(this.trainRng);
    const x0 = tf.tensor4d(pixels, [B, size, size, channels]);
    const noise = noiseSource([B, size, size, channels]) as tf.Tensor4D;

    const perSample = { loss: new Float32Array(B), mse: new Float32Array(B), vb: null as Float32Array | null };
    let gradSum: tf.Tensor1D | null = null;
    const smallBatches: { sqNorm: number; size: number }[] = [];
    let weightedLoss = 0;
    try {
      for (let start = 0; start < B; start += micro) {
        const end = Math.min(B, start + micro);
        const n = end - start;
        const t = draw.t.slice(start, end);
        const w = tf.tensor1d(Float32Array.from(draw.weights.subarray(start, end)));
        const x0c = x0.slice([start, 0, 0, 0], [n, -1, -1, -1]);
        const noisec = noise.slice([start, 0, 0, 0], [n, -1, -1, -1]);
        let terms: { loss: tf.Tensor; mse: tf.Tensor; vb?: tf.Tensor } | null = null;
        const f = (weights: WeightMap) => {
          const model = (x: tf.Tensor4D, times: tf.Tensor1D) =>
            unetForward(this.layout, weights, x, times, { dropoutRng: this.dropoutRng });
          const out = trainingLosses(this.diffusion, model, x0c, t, noisec);
          terms = { loss: tf.keep(out.loss), mse: tf.keep(out.mse), vb: out.vb ? tf.keep(out.vb) : undefined };
          return tf.mean(tf.mul(out.loss, w)) as tf.Scalar;
        };
        const { value, grad } = valueAndFlatGrad(this.flat, this.params, f);
        const chunkGrad = grad as tf.Tensor1D;
        const collected = terms as unknown as { loss: tf.Tensor; mse: tf.Tensor; vb?: tf.Tensor };
        const sqNorm = isGnsStep ? tidy(() => tf.sum(tf.square(chunkGrad))) : null;
        // One chunk (no microbatches): ·n/B = ·1 is exact, so skip the pass over the whole vector.
        const scaled = n === B ? chunkGrad.clone() : tidy(() => tf.mul(chunkGrad, n / B) as tf.Tensor1D);
        const next: tf.Tensor1D = gradSum ? tidy(() => tf.add(gradSum!, scaled) as tf.Tensor1D) : scaled.clone();
        gradSum?.dispose();
        gradSum = next;
        try {
          // One read of everything this chunk reports (one GPU round trip on webgpu).
          const wanted = [value, collected.loss, collected.mse, ...(collected.vb ? [collected.vb] : []), ...(sqNorm ? [sqNorm] : [])];
          const [valueV, lossV, mseV, ...rest] = yield wanted;
          weightedLoss += valueV[0] * (n / B);
          perSample.loss.set(lossV, start);
          perSample.mse.set(mseV, start);
          if (collected.vb) {
            perSample.vb ??= new Float32Array(B);
            perSample.vb.set(rest.shift()!, start);
          }
          if (sqNorm) smallBatches.push({ sqNorm: rest.shift()![0], size: n });
        } finally {
          tf.dispose([value, grad, scaled, w, x0c, noisec, collected.loss, collected.mse, ...(collected.vb ? [collected.vb] : []), ...(sqNorm ? [sqNorm] : [])]);
        }
      }
    } catch (err) {
      gradSum?.dispose();
      throw err;
    } finally {
      tf.dispose([x0, noise]);
    }
    const grad = gradSum!;

    // The sampler learns from the unweighted per-sample losses, as the reference's LossAwareSampler.
    if (!Number.isFinite(weightedLoss) || !perSample.loss.every(Number.isFinite)) {
      grad.dispose();
      this.nan.total += 1;
      this.nan.consecutive += 1;
      this.step += 1;
      this.emit({ type: 'nanSkipped', step: this.step, total: this.nan.total, consecutive: this.nan.consecutive });
      const limit = this.options.maxConsecutiveNan ?? 20;
      if (this.nan.consecutive >= limit) {
        throw new TrainingStoppedError(
          `training stopped at step ${this.step}: the loss was NaN or infinite ${this.nan.consecutive} steps in a row ` +
            `(${this.nan.total} in all). Lower the learning rate (now ${this.config.training.lr}) or resume from an earlier checkpoint.`,
        );
      }
      return null;
    }
    this.nan.consecutive = 0;
    this.sampler.update(draw.t, perSample.loss);

    // The squared gradient norm: read by the native AdamW pass on the way when it runs (no pass of its own), else
    // summed here before the update.
    let gradSq: number | null = null;
    if (!this.adam.readsGradSq()) {
      const gradSqT = tidy(() => tf.sum(tf.square(grad)));
      try {
        gradSq = (yield [gradSqT])[0][0];
      } catch (err) {
        grad.dispose();
        throw err;
      } finally {
        gradSqT.dispose();
      }
    }
    const lr = this.learningRate();
    const next = this.adam.apply(this.params, grad, lr);
    gradSq ??= this.adam.lastGradSq ?? readSumSquares(grad);
    this.params.dispose();
    this.params = next;
    this.ema.update(this.params, this.step, this.config.training.emaWarmup === true);
    grad.dispose();
    this.step += 1;

    if (isGnsStep && smallBatches.length >= 2) {
      const small = smallBatchStats(smallBatches);
      const g = this.gns.add(this.step, small.meanSqNorm, small.bSmall, gradSq, B);
      this.emit({ type: 'gns', step: this.step, ...g, bSmall: small.bSmall, bBig: B });
    }

    const weighted = (arr: Float32Array) => Array.from(arr, (v, i) => v * draw.weights[i]);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const T = this.diffusion.process.numSteps;
    const wl = weighted(perSample.loss);
    const wm = weighted(perSample.mse);
    const wv = perSample.vb ? weighted(perSample.vb) : null;
    const stepMs = performance.now() - started;
    const every = this.options.samplerWeightsEvery ?? 50;
    const event: StepEvent = {
      type: 'step',
      step: this.step,
      loss: mean(wl),
      mse: mean(wm),
      vb: wv ? mean(wv) : null,
      quartiles: {
        loss: quartileMeans(draw.t, wl, T),
        mse: quartileMeans(draw.t, wm, T),
        vb: wv ? quartileMeans(draw.t, wv, T) : null,
      },
      gradNorm: Math.sqrt(gradSq),
      lr,
      samplesPerSec: (B * 1000) / stepMs,
      stepMs,
    };
    if (this.step === 1 || this.step % every === 0) {
      const w = this.sampler.weights();
      const total = w.reduce((s, v) => s + v, 0);
      event.samplerWeights = Array.from(w, (v) => v / total);
    }
    this.emit(event);
    return event;
  }

  /** Weights of an EMA (or the raw ones with rate null), as a map the UNet runs on. Caller disposes. */
  weightsFor(emaRate: number | null): WeightMap {
    this.assertLive();
    return unflatten(this.flat, emaRate === null ? this.params : this.ema.get(emaRate));
  }

  /**
   * The weights used for evaluation and previews: the first EMA, or the raw weights while that EMA still
   * holds a large share of the random initial weights (or the run keeps none).
   */
  defaultWeights(): WeightsChoice {
    return defaultWeights(this.ema.rates, this.step, this.config.training.emaWarmup === true);
  }

  defaultEmaRate(): number | null {
    return this.defaultWeights().emaRate;
  }

  /**
   * Per-t VLB terms on a fixed held-out batch (paper Figure 2): the same images and noise every time,
   * so snapshots over training compare. Strided t by default; all T for the full bound.
   */
  async evaluateVlbTerms(signal?: AbortSignal): Promise<TrainEvent> {
    const T = this.diffusion.process.numSteps;
    const count = Math.min(this.options.vlbImages ?? 16, this.data.heldOutCount);
    if (count < 1) throw new Error('the dataset has no held-out images to evaluate on');
    const wanted = Math.min(T, this.options.vlbTimesteps ?? 50);
    const timesteps = stridedSteps(T, wanted);
    const rate = this.defaultEmaRate();
    const weights = this.weightsFor(rate);
    const { size, channels } = this.data;
    const x0 = tf.tensor4d(this.data.heldOutBatch(Array.from({ length: count }, (_, i) => i)), [count, size, size, channels]);
    try {
      const model = (x: tf.Tensor4D, times: tf.Tensor1D) => unetForward(this.layout, weights, x, times);
      const result = await calcBpdLoop(this.diffusion, model, x0, {
        noiseSource: rngNoise(new Rng(this.config.training.seed + 3)),
        timesteps,
        signal,
      });
      const meanOver = (rows: Float32Array[], j: number) => rows.reduce((s, r) => s + r[j], 0) / rows.length;
      const termsBpd = timesteps.map((_, j) => meanOver(result.vb, j));
      const prior = result.priorBpd.reduce((s, v) => s + v, 0) / count;
      const event: TrainEvent = {
        type: 'vlbTerms',
        step: this.step,
        timesteps: result.timesteps,
        termsBpd,
        mse: timesteps.map((_, j) => meanOver(result.mse, j)),
        priorBpd: prior,
        totalBpd: timesteps.length === T ? termsBpd.reduce((s, v) => s + v, 0) + prior : null,
        weights: rate === null ? 'raw' : 'ema',
        emaRate: rate,
        images: count,
      };
      this.emit(event);
      return event;
    } finally {
      x0.dispose();
      disposeWeights(weights);
    }
  }

  /** A small grid of samples from the EMA weights with few respaced steps, from a fixed seed. */
  async preview(signal?: AbortSignal): Promise<TrainEvent> {
    const cfg = this.config;
    const count = cfg.intervals.previewCount;
    const steps = Math.min(cfg.intervals.previewSteps, cfg.diffusion.steps);
    const choice = this.defaultWeights();
    const rate = choice.emaRate;
    const weights = this.weightsFor(rate);
    const d = respacedDiffusion(this.diffusion, String(steps));
    const seed = cfg.training.seed + 4;
    const { size, channels } = this.data;
    try {
      const model = (x: tf.Tensor4D, times: tf.Tensor1D) => unetForward(this.layout, weights, x, times);
      const x = await pSampleLoop(d, model, {
        shape: [count, size, size, channels],
        noiseSource: rngNoise(new Rng(seed)),
        signal,
      });
      const pixels = await readUint8Images(x);
      x.dispose();
      const event: TrainEvent = { type: 'preview', step: this.step, pixels, count, size, channels, samplingSteps: steps, emaRate: rate, weightsWhy: choice.reason, seed };
      this.emit(event);
      return event;
    } finally {
      disposeWeights(weights);
    }
  }

  /**
   * Trains until `untilStep` (or the config's maxSteps), running the periodic evaluations, previews and
   * the caller's checkpoint hook. Yields to the event loop between steps so a stop request is seen.
   */
  async run(opts: { untilStep?: number; signal?: AbortSignal; onCheckpointDue?: (t: Trainer) => void | Promise<void> } = {}): Promise<void> {
    const cfg = this.config;
    const until = opts.untilStep ?? cfg.training.maxSteps ?? Infinity;
    // Every kind of periodic work that is on also runs at the run's last step, so a run shorter than an
    // interval (200 steps, previews every 250) still ends with a preview, a VLB snapshot and a checkpoint.
    const due = (every: number) => every > 0 && (this.step % every === 0 || this.step === until);
    while (this.step < until) {
      if (opts.signal?.aborted) break;
      await this.trainStepAsync();
      try {
        if (due(cfg.intervals.evalEvery)) await this.evaluateVlbTerms(opts.signal);
        if (due(cfg.intervals.previewEvery)) await this.preview(opts.signal);
      } catch (e) {
        // A stop during an evaluation or preview ends the run normally: the step itself is complete.
        if ((e as Error).name === 'AbortError' && opts.signal?.aborted) break;
        throw e;
      }
      if (due(cfg.intervals.checkpointEvery)) await opts.onCheckpointDue?.(this);
      await checkpointLoop(undefined, 'training');
    }
  }

  /** Everything a checkpoint needs. Not on webgpu: use `snapshotAsync`. */
  snapshot(): TrainerSnapshot {
    return readSync(this.snapshotPlan());
  }

  snapshotAsync(): Promise<TrainerSnapshot> {
    return readAsync(this.snapshotPlan());
  }

  private *snapshotPlan(): Reads<TrainerSnapshot> {
    this.assertLive();
    const rates = this.ema.rates;
    const [params, m, v, ...emas] = yield [this.params, this.adam.m, this.adam.v, ...rates.map((r) => this.ema.get(r))];
    return {
      config: this.config,
      step: this.step,
      params: Float32Array.from(params),
      ema: new Map(rates.map((r, i) => [r, Float32Array.from(emas[i])])),
      adam: { step: this.adam.step, m: Float32Array.from(m), v: Float32Array.from(v) },
      sampler: this.sampler.state(),
      rng: { train: this.trainRng.state(), dropout: this.dropoutRng.state() },
      gns: this.gns.snapshot(),
      nan: { ...this.nan },
    };
  }

  private restore(s: TrainerSnapshot): void {
    if (s.params.length !== this.flat.total) {
      throw new Error(`the checkpoint holds ${s.params.length} parameters; this model has ${this.flat.total}`);
    }
    this.params.dispose();
    this.params = tf.tensor1d(s.params);
    for (const rate of this.ema.rates) {
      const values = s.ema.get(rate);
      if (!values) throw new Error(`the checkpoint has no EMA with rate ${rate} (it has ${[...s.ema.keys()].join(', ') || 'none'})`);
      this.ema.restore(rate, values);
    }
    this.adam.restore(s.adam.step, s.adam.m, s.adam.v);
    if (this.sampler instanceof LossSecondMomentSampler) this.sampler.restore(s.sampler);
    this.gns.restore(s.gns);
    this.nan = { ...s.nan };
    this.step = s.step;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('this trainer was disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.params.dispose();
    this.adam.dispose();
    this.ema.dispose();
  }
}

/** Σ x² read synchronously (a native AdamW that did not report it: an addon from before it did; cpu/wasm only). */
function readSumSquares(x: tf.Tensor): number {
  const t = tidy(() => tf.sum(tf.square(x)));
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** `count` steps spread over [0, T), always including 0 and T−1. */
export function stridedSteps(T: number, count: number): number[] {
  if (count >= T) return Array.from({ length: T }, (_, i) => i);
  if (count <= 1) return [0];
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(Math.round((i * (T - 1)) / (count - 1)));
  return [...out].sort((a, b) => a - b);
}
