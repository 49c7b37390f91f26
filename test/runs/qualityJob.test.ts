/**
 * The sample-quality job end to end on real files: a checkpoint of a tiny model on the bundled MNIST
 * digits (8 px), its classifier trained on first use and cached under <data>/classifiers, samples drawn,
 * metrics measured and written with their caveat; a dataset without labels is refused before sampling.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTrainCheckpoint } from '../../src-main/engine/checkpoint/trainCheckpoint';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { Trainer } from '../../src-main/engine/train/trainer';
import { runQualityJob, formatQualityReport, type QualityPhase } from '../../src-main/runs/qualityJob';
import type { RunConfigPatch } from '../../src-shared/config/runConfig';
import { write } from '../data/helpers';
import { squaresData, tinyConfig } from '../train/tinyRun';

let dir: string;
beforeAll(async () => {
  await selectBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'iddpm-quality-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A checkpoint after 2 training steps of the tiny model; its config names `dataset`. */
function tinyCheckpoint(name: string, dataset: RunConfigPatch['dataset']): string {
  const cfg = tinyConfig({ dataset, training: { backend: 'wasm' } });
  const trainer = Trainer.create(cfg, squaresData(8, 1));
  trainer.trainStep();
  trainer.trainStep();
  const file = join(dir, `${name}.safetensors`);
  writeTrainCheckpoint(file, trainer.snapshot());
  trainer.dispose();
  return file;
}

describe('sample-quality job', () => {
  it('trains the dataset classifier once, samples, measures every metric and writes quality.json with the caveat', async () => {
    const checkpoint = tinyCheckpoint('mnist', { kind: 'mnist' });
    const dataDir = join(dir, 'data');
    const phases = new Set<QualityPhase>();
    const options = {
      checkpoint,
      dataDir,
      metrics: ['fid', 'kid', 'pr', 'is'] as const,
      count: 12,
      realCount: 100,
      steps: 4,
      backend: 'wasm' as const,
      outDir: join(dir, 'out1'),
      classifierTraining: { epochs: 1, maxTrainImages: 512 },
      onProgress: (p: QualityPhase) => phases.add(p),
    };
    const first = await runQualityJob(options);
    expect(first.classifierFile).toBe(join(dataDir, 'classifiers', 'mnist-bundled-8px-1ch.safetensors'));
    expect(existsSync(first.classifierFile)).toBe(true);
    expect(first.classifierTrainedNow).toBe(true);
    expect([...phases].sort()).toEqual(['classifier', 'features', 'sampling']);
    const r = first.report;
    expect(r.generatedCount).toBe(12);
    expect(r.realCount).toBe(100);
    for (const v of [r.fid, r.kid?.mean, r.kid?.std, r.precision, r.recall, r.inceptionScore?.mean]) expect(Number.isFinite(v)).toBe(true);
    expect(r.classHistogram!.counts.reduce((a, b) => a + b, 0)).toBe(12);
    expect(r.classHistogram!.realCounts).toHaveLength(10);

    const saved = JSON.parse(readFileSync(first.reportFile, 'utf8')) as { report: { caveat: string; fid: number }; samples: { count: number } };
    expect(saved.report.caveat).toMatch(/not Inception FID\/IS, not comparable with published values/);
    expect(saved.report.fid).toBe(r.fid);
    expect(saved.samples.count).toBe(12);
    expect(PNG.sync.read(readFileSync(join(first.samplesDir, 'grid.png'))).width).toBeGreaterThan(8);
    expect(formatQualityReport(r)).toMatch(/^\(measured on the studio's .* classifier features[\s\S]*FID {8}[\d.]+\n/);

    phases.clear();
    const second = await runQualityJob({ ...options, outDir: join(dir, 'out2') });
    expect(second.classifierTrainedNow).toBe(false);
    expect(phases.has('classifier')).toBe(false);
    expect(second.report.classifierAccuracy).toBe(r.classifierAccuracy);
    expect(tf.memory().numTensors).toBeLessThan(200);
  });

  it('a dataset without labels is refused with "no labels: NLL only" before any sampling', async () => {
    const folder = join(dir, 'unlabelled');
    for (let i = 0; i < 6; i++) {
      const p = new PNG({ width: 8, height: 8 });
      p.data = Buffer.alloc(8 * 8 * 4, 40 * i);
      write(join(folder, `img${i}.png`), PNG.sync.write(p));
    }
    const checkpoint = tinyCheckpoint('folder', { kind: 'folder', path: folder });
    const outDir = join(dir, 'out-unlabelled');
    await expect(
      runQualityJob({ checkpoint, dataDir: join(dir, 'data'), metrics: ['fid'], count: 8, steps: 2, backend: 'wasm', outDir }),
    ).rejects.toThrow(/^no labels: NLL only: folder \(unlabelled\) has no class labels/);
    expect(existsSync(outDir)).toBe(false);
  });
});
