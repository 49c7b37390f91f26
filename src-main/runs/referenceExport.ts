/**
 * Hands a studio run to a cluster running the reference code (openai/improved-diffusion): a folder with
 *   model{step}.pt, ema_{rate}_{step}.pt, opt{step}.pt   what image_train.py --resume_checkpoint loads
 *   data/                                                 the training images as the reference's image folder
 *   launch.sh                                             MODEL_FLAGS / DIFFUSION_FLAGS / TRAIN_FLAGS and the mpiexec line
 *   README.md                                             how to run it, follow it here, and what did not carry over
 *   studio-export.json                                    the run, step, config and notes, for `iddpm follow`
 * Anything of the run the reference cannot express is listed in the notes, never dropped silently.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { toReferenceFlags, type ReferenceFlags } from '../../src-shared/config/referenceFlags';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { asTrainingData, openDataset } from '../data';
import { CHECKPOINT_PREFIX } from '../imageio/checkpointFormat';
import { encodePng } from '../imageio/png';
import { readSafetensors, writeFileAtomic, type NamedArray } from '../imageio/safetensors';
import { encodeTorchFile, PyFloat, PyOrderedDict, PyTuple, tensor, type PyValue } from '../interop/torchWriter';
import type { Store } from '../store';

export interface ExportForReferenceOptions {
  store: Store;
  runId: string;
  outDir: string;
  /** Which checkpoint (by step); default the latest. */
  step?: number;
  /** MPI processes (GPUs) in the launch line; the per-process batch is the run's batch divided by it. */
  processes?: number;
  /** Write the training images into data/ (default true). */
  includeData?: boolean;
  /** The studio's datasets folder, for dataset kinds whose path defaults there. */
  datasetsDir?: string;
}

export interface ExportForReferenceResult {
  outDir: string;
  step: number;
  files: string[];
  images: number;
  notes: string[];
  flags: ReferenceFlags;
}

export const EXPORT_RECORD = 'studio-export.json';

const MODEL_FLAG_NAMES = ['image_size', 'num_channels', 'num_res_blocks', 'num_heads', 'num_heads_upsample', 'attention_resolutions', 'dropout', 'learn_sigma', 'use_scale_shift_norm'] as const;
const DIFFUSION_FLAG_NAMES = ['diffusion_steps', 'noise_schedule', 'use_kl', 'predict_xstart', 'rescale_timesteps', 'rescale_learned_sigmas', 'sigma_small'] as const;
const TRAIN_FLAG_NAMES = ['lr', 'batch_size', 'microbatch', 'ema_rate', 'weight_decay', 'lr_anneal_steps', 'schedule_sampler', 'save_interval', 'log_interval'] as const;

/** argparse spelling: Python's True/False, numbers as JS prints them (1e-4 parses as a float in Python). */
function flagValue(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

function flagLine(flags: ReferenceFlags, names: readonly (keyof ReferenceFlags)[]): string {
  return names.map((n) => `--${n} ${flagValue(flags[n])}`).join(' ');
}

const pad6 = (n: number) => String(n).padStart(6, '0');

/** The checkpoint's tensors under one prefix, in file order (the reference's named_parameters order). */
function stateDict(tensors: Map<string, NamedArray>, prefix: string): [string, NamedArray][] {
  return [...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]);
}

function asPyStateDict(entries: [string, NamedArray][]): PyOrderedDict {
  return new PyOrderedDict(entries.map(([name, t]) => [name, tensor(t.shape, t.data as Float32Array)]));
}

/** torch.optim.AdamW.state_dict() as torch 1.13 writes it: state by parameter index, one param group. */
function adamStateDict(config: RunConfig, step: number, adamStep: number, m: [string, NamedArray][], v: [string, NamedArray][]): PyValue {
  const { lr, lrAnnealSteps, weightDecay } = config.training;
  const state = new Map<number, PyValue>();
  m.forEach(([, t], i) => {
    state.set(
      i,
      new Map<string, PyValue>([
        ['step', tensor([], Float32Array.of(adamStep))],
        ['exp_avg', tensor(t.shape, t.data as Float32Array)],
        ['exp_avg_sq', tensor(v[i][1].shape, v[i][1].data as Float32Array)],
      ]),
    );
  });
  // TrainLoop._anneal_lr sets the group's lr before every step; without annealing it stays at --lr.
  const groupLr = lrAnnealSteps ? lr * Math.max(0, 1 - step / lrAnnealSteps) : lr;
  const group = new Map<string, PyValue>([
    ['lr', new PyFloat(groupLr)],
    ['betas', new PyTuple([new PyFloat(0.9), new PyFloat(0.999)])],
    ['eps', new PyFloat(1e-8)],
    ['weight_decay', new PyFloat(weightDecay)],
    ['amsgrad', false],
    ['maximize', false],
    ['foreach', null],
    ['capturable', false],
    ['params', m.map((_, i) => i)],
  ]);
  return new Map<string, PyValue>([
    ['state', state],
    ['param_groups', [group]],
  ]);
}

/** Settings of the run that the reference's flags or files do not carry. */
function studioOnlyNotes(config: RunConfig, processes: number): string[] {
  const notes: string[] = [];
  const t = config.training;
  if (t.batchSize % processes !== 0) {
    notes.push(`training.batchSize ${t.batchSize} does not divide over ${processes} processes; each process gets --batch_size ${Math.max(1, Math.floor(t.batchSize / processes))}, so the global batch changes`);
  }
  if (t.maxSteps !== undefined) notes.push(`training.maxSteps ${t.maxSteps}: the reference trains until stopped (or lr_anneal_steps); stop it yourself`);
  notes.push(`training.seed ${t.seed}: the reference does not seed its generators, so noise, timesteps and data order differ from the studio's`);
  if (t.timestepSampler === 'loss-second-moment') {
    notes.push('the loss-second-moment sampler history is not saved by the reference; it warms up again on the cluster (10 losses per t)');
  }
  const i = config.intervals;
  if (i.evalEvery || i.previewEvery || i.gnsEvery) {
    notes.push('evaluation, preview and gradient-noise-scale intervals have no reference flag: follow the run here (iddpm follow) and sample/evaluate its checkpoints in the studio');
  }
  return notes;
}

function toUint8(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(0, Math.min(255, Math.round((x[i] + 1) * 127.5)));
  return out;
}

export async function exportForReference(opts: ExportForReferenceOptions): Promise<ExportForReferenceResult> {
  const { store, runId } = opts;
  const run = store.getRun(runId);
  if (!run) throw new Error(`no run '${runId}' (see iddpm runs)`);
  const checkpoints = store.listCheckpoints(runId);
  const ckpt = opts.step === undefined ? checkpoints.at(-1) : checkpoints.find((c) => c.step === opts.step);
  if (!ckpt) {
    throw new Error(
      opts.step === undefined
        ? `run '${runId}' has no checkpoint yet: train it to its first checkpoint (intervals.checkpointEvery) and export again`
        : `run '${runId}' has no checkpoint at step ${opts.step} (it has ${checkpoints.map((c) => c.step).join(', ') || 'none'})`,
    );
  }
  const processes = opts.processes ?? 1;
  if (!Number.isInteger(processes) || processes < 1) throw new Error(`processes must be a whole number ≥ 1, got ${processes}`);

  const { tensors, metadata } = readSafetensors(ckpt.path);
  const config = JSON.parse(metadata.config) as RunConfig;
  const emaRates = JSON.parse(metadata.ema_rates) as number[];
  const adamStep = (JSON.parse(metadata.optimizer) as { step: number }).step;
  const step = ckpt.step;

  const out = path.resolve(opts.outDir);
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: Buffer | string) => {
    const file = path.join(out, name);
    writeFileAtomic(file, typeof data === 'string' ? Buffer.from(data) : data);
    files.push(file);
  };

  const model = stateDict(tensors, CHECKPOINT_PREFIX.model);
  write(`model${pad6(step)}.pt`, encodeTorchFile(asPyStateDict(model), `model${pad6(step)}`));
  for (const rate of emaRates) {
    const name = `ema_${rate}_${pad6(step)}`;
    write(`${name}.pt`, encodeTorchFile(asPyStateDict(stateDict(tensors, CHECKPOINT_PREFIX.ema(rate))), name));
  }
  const m = stateDict(tensors, CHECKPOINT_PREFIX.expAvg);
  const v = stateDict(tensors, CHECKPOINT_PREFIX.expAvgSq);
  write(`opt${pad6(step)}.pt`, encodeTorchFile(adamStateDict(config, step, adamStep, m, v), `opt${pad6(step)}`));

  const { flags, unrepresentable } = toReferenceFlags(config);
  const notes = [...unrepresentable, ...studioOnlyNotes(config, processes)];
  flags.batch_size = Math.max(1, Math.floor(config.training.batchSize / processes));
  flags.log_interval = 1;

  let images = 0;
  if (opts.includeData ?? true) {
    const ds = asTrainingData(await openDataset(config.dataset, { size: config.model.imageSize, channels: config.model.imageChannels }, { datasetsDir: opts.datasetsDir }));
    const dataDir = path.join(out, 'data');
    mkdirSync(dataDir, { recursive: true });
    const per = ds.size * ds.size * ds.channels;
    for (let start = 0; start < ds.trainCount; start += 256) {
      const idx = Array.from({ length: Math.min(256, ds.trainCount - start) }, (_, k) => start + k);
      const pixels = toUint8(ds.trainBatch(idx));
      idx.forEach((i, k) => {
        const png = encodePng({ width: ds.size, height: ds.size, channels: ds.channels as 1 | 3, pixels: pixels.subarray(k * per, (k + 1) * per) });
        writeFileSync(path.join(dataDir, `image_${String(i).padStart(6, '0')}.png`), png);
      });
    }
    images = ds.trainCount;
    if (ds.channels === 1) notes.push('the images are grayscale PNGs; the reference loads them as RGB (3 equal channels)');
    notes.push(`data/ holds the ${images} training images at ${ds.size} px (the studio's training split, already at the model's size; the held-out split stays here)`);
  } else {
    notes.push('no images exported (--no-data): set DATA_DIR to your copy of the training images');
  }

  const modelFlags = flagLine(flags, MODEL_FLAG_NAMES);
  const diffusionFlags = flagLine(flags, DIFFUSION_FLAG_NAMES);
  const trainFlags = flagLine(flags, TRAIN_FLAG_NAMES);
  const launch = `#!/bin/sh
# Continue studio run ${runId} from step ${step} with the reference code (openai/improved-diffusion).
# REF: your checkout of improved-diffusion (pip install -e . there; it needs mpi4py and blobfile).
# OPENAI_LOGDIR: where the reference writes progress.csv and checkpoints; watch it with  iddpm follow DIR.
set -e
HERE="$(cd "$(dirname "$0")" && pwd)"
REF="\${REF:-improved-diffusion}"
NPROC="\${NPROC:-${processes}}"
DATA_DIR="\${DATA_DIR:-$HERE/data}"
export OPENAI_LOGDIR="\${OPENAI_LOGDIR:-$HERE/logs}"

MODEL_FLAGS="${modelFlags}"
DIFFUSION_FLAGS="${diffusionFlags}"
TRAIN_FLAGS="${trainFlags}"

mpiexec -n "$NPROC" python "$REF/scripts/image_train.py" --data_dir "$DATA_DIR" --resume_checkpoint "$HERE/model${pad6(step)}.pt" $MODEL_FLAGS $DIFFUSION_FLAGS $TRAIN_FLAGS
`;
  write('launch.sh', launch);

  const readme = `# Studio run ${runId} (${run.name}), ready for the reference code

Exported at step ${step} from iddpm-studio. Continue it on a cluster with the authors' code
(openai/improved-diffusion), then watch and sample it in the studio.

| file | what |
|---|---|
| model${pad6(step)}.pt | the weights (PyTorch state dict, strict-loads into the reference UNetModel) |
${emaRates.map((r) => `| ema_${r}_${pad6(step)}.pt | the EMA ${r} of the weights |\n`).join('')}| opt${pad6(step)}.pt | AdamW's state (moments and step count, by parameter index) |
| data/ | ${images ? `${images} training images (PNG), the reference's image-folder format` : 'not exported'} |
| launch.sh | the exact flags and the mpiexec line |

## Run

\`\`\`sh
REF=/path/to/improved-diffusion NPROC=${processes} OPENAI_LOGDIR=/shared/logs/${runId} sh launch.sh
\`\`\`

\`--resume_checkpoint\` makes TrainLoop load the model, the EMA and the optimizer state of step ${step} from this
folder and continue counting steps from there. Each of the NPROC processes trains on --batch_size ${flags.batch_size}
images per step (global batch ${flags.batch_size * processes}).

## Follow it here

\`\`\`sh
iddpm follow /shared/logs/${runId} --run ${runId}
\`\`\`

adds the cluster's progress rows and checkpoints to this run in the studio as they are written, so the usual
charts, sampling and evaluation work on them (\`--flags-file launch.sh\` instead of \`--run\` makes a new run).

## What did not carry over

${notes.map((n) => `- ${n}`).join('\n')}
`;
  write('README.md', readme);
  write(EXPORT_RECORD, `${JSON.stringify({ runId, step, config, flags, notes, exportedAt: new Date().toISOString() }, null, 2)}\n`);
  return { outDir: out, step, files, images, notes, flags };
}
