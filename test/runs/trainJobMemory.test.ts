/**
 * Issue 13, item 3: a run whose memory estimate exceeds what its backend can hold is refused by the
 * training job before the dataset or the model allocate anything, naming the field to lower.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateTrainingMemory } from '../../src-shared/config/paramCount';
import { validateRunConfig } from '../../src-shared/config/validate';
import { backendMemoryLimit, WASM_HEAP_MAX_BYTES } from '../../src-main/engine/backend/memoryLimit';
import { runTrainJob } from '../../src-main/runs/trainJob';
import { tinyConfig } from '../train/tinyRun';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training memory is checked before the worker allocates', () => {
  it('the wasm backend gets its 4 GiB heap, cpu the machine, the GPU only the absolute ceiling', () => {
    expect(backendMemoryLimit('wasm', 64 * 2 ** 30)).toMatchObject({ bytes: WASM_HEAP_MAX_BYTES, what: 'the 4 GiB the wasm backend can address' });
    expect(backendMemoryLimit('wasm', 2 * 2 ** 30).bytes).toBe(2 * 2 ** 30);
    expect(backendMemoryLimit('cpu', 24 * 2 ** 30)).toEqual({ bytes: 24 * 2 ** 30, what: "this machine's 24.0 GiB of memory" });
    expect(backendMemoryLimit('tensorflow-gpu', 8 * 2 ** 30).bytes).toBe(2 ** 40);
  });

  it('refuses on wasm a batch whose activations exceed the heap ("memory access out of bounds" before)', async () => {
    // 64 px MNIST with a batch of 512: every field is valid, the estimate is past 4 GiB.
    const config = tinyConfig({
      model: { imageSize: 64, channels: 64, channelMult: [1, 2, 2], attentionResolutions: [] },
      training: { batchSize: 512, backend: 'wasm' },
    });
    const est = estimateTrainingMemory(config).totalBytes;
    expect(est).toBeGreaterThan(WASM_HEAP_MAX_BYTES);
    expect(est).toBeLessThan(os.totalmem() * 4); // not absurd: only the backend's limit refuses it
    expect(validateRunConfig(config)).toEqual([]);

    const runDir = path.join(dir, 'run');
    const datasetOpened: string[] = [];
    const err = await runTrainJob({ runDir, config, untilStep: 1, onDataset: (d) => datasetOpened.push(d) }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/training\.batchSize 512 needs about [\d.]+ GiB to train/);
    expect(err?.message).toContain('more than the 4 GiB the wasm backend can address');
    expect(err?.message).toMatch(/set training\.microbatch to \d+/);
    expect(datasetOpened).toEqual([]);
    expect(existsSync(path.join(runDir, 'checkpoints'))).toBe(false);
  });
});
