/**
 * Handing a studio run to the reference: the exported .pt files, read back by our reader and — with
 * Debian's python3-torch — strict-loaded by the reference UNet, resumed by scripts/image_train.py with the
 * flags of launch.sh, and giving the studio's UNet outputs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../src-shared/config/runConfig';
import { validateRunConfig } from '../../src-shared/config/validate';
import { readCheckpointWeights, writeTrainCheckpoint } from '../../src-main/engine/checkpoint/trainCheckpoint';
import { Trainer } from '../../src-main/engine/train/trainer';
import { unetForward } from '../../src-main/engine/unet/forward';
import { disposeWeights } from '../../src-main/engine/unet/weights';
import { readSafetensors } from '../../src-main/imageio/safetensors';
import { readTorchFile, type TorchTensor } from '../../src-main/interop/torchFile';
import { exportForReference, type ExportForReferenceResult } from '../../src-main/runs/referenceExport';
import { ReferenceFollower } from '../../src-main/runs/referenceFollow';
import { checkpointFile } from '../../src-main/runs/runFiles';
import { expectClose, useCpuBackend } from '../golden/goldenFile';
import { tempStore, type TempStore } from '../store/helpers';
import { squaresData } from '../train/tinyRun';
import { referencePython } from './referencePython';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'reference');

/** A run the reference can express exactly: 32 px uses its channel_mult (1,2,2,2). */
const config = withDefaults({
  dataset: { kind: 'folder', path: path.join(FIXTURES, 'images') },
  model: { imageSize: 32, imageChannels: 3, channels: 32, numResBlocks: 1, channelMult: [1, 2, 2, 2], attentionResolutions: [16], numHeads: 2 },
  diffusion: { steps: 50, noiseSchedule: 'cosine', objective: 'hybrid', varianceType: 'learned_range' },
  training: { batchSize: 2, lr: 1e-3, emaRates: [0.9999, 0.9], seed: 3, backend: 'cpu' },
  intervals: { checkpointEvery: 100, evalEvery: 0, gnsEvery: 0, previewEvery: 0 },
});

describe('export of a studio run for the reference code', () => {
  let t: TempStore;
  let exported: ExportForReferenceResult;
  let checkpoint: string;

  beforeAll(async () => {
    await useCpuBackend();
    expect(validateRunConfig(config, { requireDatasetPath: true })).toEqual([]);
    t = tempStore();
    const dir = path.join(t.dir, 'runs', 'handoff');
    t.store.createRun({ id: 'handoff', name: 'to the cluster', config, status: 'stopped', runDir: dir });
    const trainer = Trainer.create(config, squaresData(32, 3));
    trainer.trainStep();
    trainer.trainStep();
    checkpoint = checkpointFile(dir, 2);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(checkpoint), { recursive: true });
    const bytes = writeTrainCheckpoint(checkpoint, trainer.snapshot());
    trainer.dispose();
    t.store.addCheckpoint('handoff', { step: 2, path: checkpoint, bytes, emaRates: config.training.emaRates });
    exported = await exportForReference({ store: t.store, runId: 'handoff', outDir: path.join(t.dir, 'export'), processes: 2 });
  }, 120_000);
  afterAll(() => t?.cleanup());

  it('writes the .pt files, the image folder, launch.sh with the exact flags, a README and the notes', () => {
    const names = readdirSync(exported.outDir).sort();
    expect(names).toEqual(['README.md', 'data', 'ema_0.9999_000002.pt', 'ema_0.9_000002.pt', 'launch.sh', 'model000002.pt', 'opt000002.pt', 'studio-export.json']);
    expect(readdirSync(path.join(exported.outDir, 'data'))).toHaveLength(exported.images);
    expect(exported.images).toBeGreaterThan(0);
    const launch = readFileSync(path.join(exported.outDir, 'launch.sh'), 'utf8');
    expect(launch).toContain(
      'MODEL_FLAGS="--image_size 32 --num_channels 32 --num_res_blocks 1 --num_heads 2 --num_heads_upsample -1 --attention_resolutions 16 --dropout 0 --learn_sigma True --use_scale_shift_norm True"',
    );
    expect(launch).toContain('DIFFUSION_FLAGS="--diffusion_steps 50 --noise_schedule cosine --use_kl False --predict_xstart False --rescale_timesteps True --rescale_learned_sigmas True --sigma_small False"');
    // 2 images per step over 2 processes: 1 each.
    expect(launch).toContain('TRAIN_FLAGS="--lr 0.001 --batch_size 1 --microbatch -1 --ema_rate 0.9999,0.9 --weight_decay 0 --lr_anneal_steps 0 --schedule_sampler uniform --save_interval 100 --log_interval 1"');
    expect(launch).toMatch(/mpiexec -n "\$NPROC" python "\$REF\/scripts\/image_train.py" --data_dir "\$DATA_DIR" --resume_checkpoint "\$HERE\/model000002.pt" \$MODEL_FLAGS \$DIFFUSION_FLAGS \$TRAIN_FLAGS/);
    expect(launch).toContain('NPROC="${NPROC:-2}"');
    const readme = readFileSync(path.join(exported.outDir, 'README.md'), 'utf8');
    expect(readme).toContain('training.seed 3: the reference does not seed');
    expect(exported.notes.join('\n')).toMatch(/data\/ holds the \d+ training images at 32 px/);
  });

  it('names settings the reference cannot express instead of dropping them', async () => {
    const mnistLike = withDefaults({ ...config, model: { ...config.model, imageSize: 16, channelMult: [1, 2], attentionResolutions: [8] }, training: { ...config.training, batchSize: 3 } });
    const dir = path.join(t.dir, 'runs', 'odd');
    t.store.createRun({ id: 'odd', name: 'odd', config: mnistLike, status: 'stopped', runDir: dir });
    const trainer = Trainer.create(mnistLike, squaresData(16, 3));
    const file = checkpointFile(dir, 0);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(file), { recursive: true });
    const bytes = writeTrainCheckpoint(file, trainer.snapshot());
    trainer.dispose();
    t.store.addCheckpoint('odd', { step: 0, path: file, bytes, emaRates: mnistLike.training.emaRates });
    const r = await exportForReference({ store: t.store, runId: 'odd', outDir: path.join(t.dir, 'odd-export'), processes: 2, includeData: false });
    const notes = r.notes.join('\n');
    expect(notes).toContain('model.imageSize 16: the reference supports 32, 64, 256');
    expect(notes).toContain('training.batchSize 3 does not divide over 2 processes');
    expect(notes).toContain('no images exported');
  }, 60_000);

  it('reads back through the restricted reader as the same tensors, in parameter order', () => {
    const { tensors } = readSafetensors(checkpoint);
    const model = readTorchFile(path.join(exported.outDir, 'model000002.pt')) as Map<string, TorchTensor>;
    const names = [...tensors.keys()].filter((k) => k.startsWith('model.')).map((k) => k.slice(6));
    expect([...model.keys()]).toEqual(names);
    for (const n of names) expect(Array.from(model.get(n)!.data)).toEqual(Array.from(tensors.get(`model.${n}`)!.data));
    const opt = readTorchFile(path.join(exported.outDir, 'opt000002.pt')) as Map<string, unknown>;
    const state = opt.get('state') as Map<number, Map<string, TorchTensor>>;
    expect(state.size).toBe(names.length);
    expect(Array.from(state.get(3)!.get('exp_avg')!.data)).toEqual(Array.from(tensors.get(`optimizer.exp_avg.${names[3]}`)!.data));
  });

  const py = referencePython();
  it.skipIf(py.python === null)('loads in the reference (strict), resumes with image_train.py and gives the same UNet outputs', () => {
    const shape: [number, number, number, number] = [2, 3, 32, 32];
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(0.37 * i + 0.11)));
    const timesteps = [60, 740]; // t = 3 and 37 of 50, as the network receives them (rescaled to 0..1000)
    const input = path.join(t.dir, 'input.json');
    const output = path.join(t.dir, 'python-out.json');
    writeFileSync(input, JSON.stringify({ shape, x, timesteps }));
    const r = spawnSync(py.python!, [path.join(FIXTURES, 'check_export.py'), exported.outDir, input, output], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const got = JSON.parse(readFileSync(output, 'utf8'));
    expect(got.step).toBe(2);
    expect(got.opt_step).toBe(2);
    expect(got.resumed).toMatchObject({ loaded_model: true, loaded_ema: true, loaded_optimizer: true });
    expect(got.resumed.progress_rows).toHaveLength(1);
    expect(got.resumed.progress_rows[0].split(',')[got.resumed.progress_header.indexOf('step')]).toBe('2');

    const forward = (emaRate: number | null) => {
      const { layout, weights } = readCheckpointWeights(checkpoint, emaRate);
      try {
        return tf.tidy(() => {
          const xt = tf.tensor4d(x, shape).transpose([0, 2, 3, 1]) as tf.Tensor4D;
          return Float32Array.from(unetForward(layout, weights, xt, tf.tensor1d(timesteps)).transpose([0, 3, 1, 2]).dataSync() as Float32Array);
        });
      } finally {
        disposeWeights(weights);
      }
    };
    expectClose(forward(null), got.model, { atol: 1e-4, rtol: 0, label: 'raw weights in the reference' });
    expectClose(forward(0.9), got.ema['0.9'], { atol: 1e-4, rtol: 1e-3, label: 'EMA 0.9 in the reference' });
    expect(Math.max(...got.model.map(Math.abs))).toBeGreaterThan(1e-3); // not a trivially zero head
    expect(existsSync(path.join(exported.outDir, 'model000002.pt'))).toBe(true);

    // Back in the studio: following the reference's log dir into the exported run adds the step it trained.
    try {
      const follower = new ReferenceFollower({ store: t.store, dataDir: t.dir, dir: got.logdir, runId: 'handoff' });
      follower.poll();
      follower.poll();
      expect(t.store.readSeriesRaw('handoff', 'loss').step).toEqual([3]);
      expect(t.store.listCheckpoints('handoff').map((c) => c.step)).toEqual([2]); // the studio's own step 2 is kept
    } finally {
      rmSync(got.logdir, { recursive: true, force: true });
    }
  }, 300_000);
});
