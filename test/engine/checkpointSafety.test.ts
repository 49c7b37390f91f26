/**
 * Issue 13, items 8 and 9: a checkpoint is input like any other. Its tensor bytes carry a checksum that
 * is verified on load (older files without one load with a note), NaN/Inf weights are refused, and its
 * metadata is validated (the config through the run-config validator) with messages naming the file.
 * Every file here is a real checkpoint written by the trainer, then damaged the way a disk or a hand would.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CHECKSUM_KEY, readSafetensors } from '../../src-main/imageio/safetensors';
import { readCheckpointInfo, readCheckpointWeights, readTrainCheckpoint, writeTrainCheckpoint } from '../../src-main/engine/checkpoint/trainCheckpoint';
import { Trainer } from '../../src-main/engine/train/trainer';
import { disposeWeights } from '../../src-main/engine/unet/weights';
import { runSampleJob } from '../../src-main/runs/sampleJob';
import { squaresData, tinyConfig } from '../train/tinyRun';

let dir: string;
let good: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-ckpt-safety-'));
  const trainer = Trainer.create(tinyConfig(), squaresData(8, 1));
  trainer.trainStep();
  good = path.join(dir, 'good.safetensors');
  writeTrainCheckpoint(good, trainer.snapshot());
  trainer.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file's parts: header JSON and the data section after it. */
function split(file: string): { header: Record<string, any>; data: Buffer } {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  return { header: JSON.parse(buf.subarray(8, 8 + n).toString('utf8')), data: buf.subarray(8 + n) };
}

/** A copy of `good` with the header changed by `mutate` and/or the data section changed by `damage`. */
function variant(name: string, mutate: (h: Record<string, any>) => void, damage: (data: Buffer, h: Record<string, any>) => void = () => {}): string {
  const { header, data } = split(good);
  mutate(header);
  const bytes = Buffer.from(data);
  damage(bytes, header);
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const file = path.join(dir, `${name}.safetensors`);
  writeFileSync(file, Buffer.concat([len, Buffer.from(json), bytes]));
  return file;
}

const noChecksum = (h: Record<string, any>) => delete h.__metadata__[DATA_CHECKSUM_KEY];
/** Writes `value` as the float32 at `index` of tensor `name`. */
const poke = (name: string, index: number, value: number) => (data: Buffer, h: Record<string, any>) => {
  data.writeFloatLE(value, h[name].data_offsets[0] + 4 * index);
};

function errorOf(fn: () => unknown): Error {
  try {
    const r = fn();
    if (r && typeof r === 'object' && 'weights' in r) disposeWeights((r as { weights: Map<string, tf.Tensor> }).weights);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('checkpoint checksum (item 8)', () => {
  it('stores a SHA-256 of the tensor data and verifies it on load', () => {
    const { metadata, checksum } = readSafetensors(good);
    expect(metadata[DATA_CHECKSUM_KEY]).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum).toBe('verified');
    const w = readCheckpointWeights(good, undefined);
    expect(w.notes).toEqual([]);
    disposeWeights(w.weights);
  });

  it('refuses a checkpoint whose tensor bytes were overwritten with random bytes', () => {
    const file = variant('random', () => {}, (data) => {
      for (let i = 0; i < 64; i++) data[1000 + i] = (i * 151 + 7) & 0xff;
    });
    for (const read of [() => readCheckpointWeights(file, undefined), () => readTrainCheckpoint(file)]) {
      const e = errorOf(read);
      expect(e.message).toContain(`${file} is corrupt: its tensor data does not match the checksum`);
      expect(e.message).toContain('use an earlier checkpoint');
    }
  });

  it('refuses a checkpoint with a NaN weight even when the checksum was rewritten to match', async () => {
    // Damage that the checksum cannot see (an old file, or a program that recomputed it) still meets the NaN check.
    const file = variant('nan-no-checksum', noChecksum, poke('ema.0.9.out.2.weight', 5, Number.NaN));
    const e = errorOf(() => readCheckpointWeights(file, undefined));
    expect(e.message).toBe(
      `checkpoint ${file}: tensor ema.0.9.out.2.weight holds NaN (at index 5 of ${split(good).header['ema.0.9.out.2.weight'].shape.reduce((a: number, b: number) => a * b)}), so its weights cannot be used: the file is damaged or was written from a diverged model; use an earlier checkpoint`,
    );
    // Sampling from it stops before drawing anything: no black images.
    const outDir = path.join(dir, 'nan-samples');
    await expect(runSampleJob({ checkpoint: file, sampler: 'ddim', steps: 2, eta: 0, count: 1, seed: 0, outDir, backend: 'cpu' })).rejects.toThrow(/holds NaN/);
    expect(existsSync(outDir)).toBe(false);
  });

  it('refuses an infinite weight in the raw model and names the tensor', () => {
    const file = variant('inf', noChecksum, poke('model.input_blocks.0.0.weight', 0, Number.POSITIVE_INFINITY));
    expect(errorOf(() => readTrainCheckpoint(file)).message).toMatch(/tensor model\.input_blocks\.0\.0\.weight holds Infinity \(at index 0 of/);
  });

  it('still loads a checkpoint written before checksums, with a note the caller can show', () => {
    const file = variant('old', noChecksum);
    const w = readCheckpointWeights(file, undefined);
    expect(w.notes).toEqual([`checkpoint ${file} has no checksum (it was written before the studio stored one), so damage to its weights cannot be detected`]);
    disposeWeights(w.weights);
    const s = readTrainCheckpoint(file);
    expect(s.step).toBe(1);
    expect(s.notes).toHaveLength(1);
  });
});

describe('checkpoint metadata is validated (items 3 and 9)', () => {
  const cases: { name: string; mutate: (h: Record<string, any>) => void; says: string }[] = [
    { name: 'config null', mutate: (h) => (h.__metadata__.config = 'null'), says: "metadata 'config' is not a valid run config (a run config must be an object" },
    {
      name: 'an empty model group',
      mutate: (h) => (h.__metadata__.config = JSON.stringify({ ...JSON.parse(h.__metadata__.config), model: {} })),
      says: "metadata 'config' is not a valid run config (model.imageSize is missing",
    },
    {
      name: 'a billion diffusion steps',
      mutate: (h) => {
        const c = JSON.parse(h.__metadata__.config);
        c.diffusion.steps = 1e9;
        h.__metadata__.config = JSON.stringify(c);
      },
      says: 'diffusion.steps 1000000000 is more than 100000',
    },
    {
      name: '320000 channels',
      mutate: (h) => {
        const c = JSON.parse(h.__metadata__.config);
        c.model.channels = 320000;
        h.__metadata__.config = JSON.stringify(c);
      },
      says: 'model.channels 320000 is more than 1024',
    },
    { name: 'config not JSON', mutate: (h) => (h.__metadata__.config = '{oops'), says: "metadata 'config' is not JSON" },
    { name: 'a non-numeric step', mutate: (h) => (h.__metadata__.step = 'abc'), says: `metadata 'step' must be a whole number, not "abc"` },
    { name: 'no step', mutate: (h) => delete h.__metadata__.step, says: "metadata 'step' is missing" },
    { name: 'EMA rates not a list', mutate: (h) => (h.__metadata__.ema_rates = '{"a":1}'), says: "metadata 'ema_rates' must be a list of rates between 0 and 1" },
  ];

  for (const c of cases) {
    it(`names the file and the problem for ${c.name}, in every reader`, () => {
      const file = variant(c.name.replace(/\W+/g, '-'), c.mutate);
      for (const read of [() => readCheckpointInfo(file), () => readCheckpointWeights(file, undefined), () => readTrainCheckpoint(file)]) {
        const e = errorOf(read);
        expect(e.message).toContain(`checkpoint ${file}: `);
        expect(e.message).toContain(c.says);
        expect(e.message).not.toContain('Cannot read properties');
      }
    });
  }

  it('names the training state entries resume needs', () => {
    const noRng = variant('no-rng', (h) => (h.__metadata__.rng = 'null'));
    expect(errorOf(() => readTrainCheckpoint(noRng)).message).toContain(`checkpoint ${noRng}: metadata 'rng' must be an object, not null`);
    const badOpt = variant('bad-optimizer', (h) => (h.__metadata__.optimizer = '{"name":"AdamW","step":"x"}'));
    expect(errorOf(() => readTrainCheckpoint(badOpt)).message).toContain(`metadata 'optimizer' must be a whole number ≥ 0, not "x"`);
    const badRng = variant('bad-rng', (h) => (h.__metadata__.rng = '{"train":{"s":[1,2],"spare":null},"dropout":null}'));
    expect(errorOf(() => readTrainCheckpoint(badRng)).message).toContain("metadata 'rng' has no valid train generator state");
  });

  it('refuses a header that is not an object', () => {
    const file = path.join(dir, 'null-header.safetensors');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(4n);
    writeFileSync(file, Buffer.concat([len, Buffer.from('null')]));
    expect(errorOf(() => readCheckpointInfo(file)).message).toBe(`${file} is not a valid safetensors checkpoint: the header is not a JSON object`);
  });
});
