/**
 * The webgpu backend on a real adapter: Chromium's SwiftShader (a software Vulkan driver) through Dawn.
 * 'auto' refuses it (the CPU kernels are faster) and records why; forcing it runs tfjs's WebGPU kernels; an
 * uncaptured GPU error is recorded with the adapter's name and fails the reads that follow; a batch over the
 * adapter's buffer limit is refused before a run starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { describeBackend, selectBackend } from '../../src-main/engine/backend/selectBackend';
import { activeWebGpuDevice, onWebGpuFailure, webgpuFailure } from '../../src-main/engine/backend/webgpu';
import { readUint8Images } from '../../src-main/engine/train/images';
import { readAsync, type Reads } from '../../src-main/engine/train/readback';
import { runTrainJob } from '../../src-main/runs/trainJob';
import { listCheckpoints } from '../../src-main/runs/runFiles';
import { tinyConfig } from '../train/tinyRun';
import { softwareWebGpu } from './softwareWebGpu';

const gpu = await softwareWebGpu();

describe.skipIf(gpu.skip !== null)('webgpu backend on SwiftShader', () => {
  it('Dawn reports SwiftShader as a software adapter with its buffer limits', () => {
    const a = gpu.adapter!;
    expect(a.software).toBe(true);
    expect(`${a.vendor} ${a.architecture} ${a.description}`).toMatch(/swiftshader/i);
    expect(a.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(a.maxBufferSize).toBeGreaterThanOrEqual(a.maxStorageBufferBindingSize);
  });

  it("'auto' refuses the software adapter, records why, and lands on wasm with the native kernels", async () => {
    const report = await selectBackend('auto');
    expect(report.name).toBe('wasm');
    expect(report.native).toMatch(/^native kernels: /);
    const webgpu = report.skipped.find((s) => s.name === 'webgpu');
    expect(webgpu?.reason).toBe(
      `software adapter ${gpu.adapter!.description} refused: slower than the CPU kernels; force with --backend webgpu`,
    );
    expect(report.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow']);
    expect(describeBackend(report)).toMatch(/\[skipped tensorflow-gpu: .*; webgpu: software adapter .* refused: .*; tensorflow: .*\]$/);
  });

  it("forced 'webgpu' runs on it, and the backend line names the adapter and its limits", async () => {
    const report = await selectBackend('webgpu');
    expect(report).toMatchObject({ name: 'webgpu', tfBackend: 'webgpu', skipped: [] });
    expect(tf.getBackend()).toBe('webgpu');
    expect(report.adapter?.software).toBe(true);
    const line = describeBackend(report);
    expect(line).toContain(`webgpu — tfjs-backend-webgpu on ${gpu.adapter!.description} (${gpu.adapter!.vendor}, ${gpu.adapter!.architecture}; software adapter;`);
    expect(line).toMatch(/maxStorageBufferBindingSize \d+ [MG]iB, maxBufferSize \d+ [MG]iB\)$/);
    expect(report.native).toBeUndefined();

    // The kernels really run there.
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.tensor2d([1, 0, -1, 2, 0.5, 3], [3, 2]);
    const prod = tf.matMul(a, b);
    expect(Array.from(await prod.data())).toEqual([0.5, 13, 2, 28]);
    tf.dispose([a, b, prod]);
  });

  it('re-selecting webgpu reuses the device (no second device, tensors survive)', async () => {
    await selectBackend('webgpu');
    const device = activeWebGpuDevice();
    const kept = tf.tensor1d([1, 2, 3]);
    await selectBackend('webgpu');
    expect(activeWebGpuDevice()).toBe(device);
    expect(Array.from(await kept.data())).toEqual([1, 2, 3]);
    kept.dispose();
  });

  it('a training run whose batch exceeds the adapter\'s buffer limit fails before any work, naming the setting', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-webgpu-run-'));
    try {
      // Attention at 64×64: 2 heads × 4096² floats = 128 MiB per sample; 16 samples exceed SwiftShader's 1 GiB.
      const config = tinyConfig({
        model: { imageSize: 64, channels: 32, channelMult: [1, 2], attentionResolutions: [64], numHeads: 2 },
        training: { batchSize: 16, backend: 'webgpu' },
      });
      const limit = gpu.adapter!.maxStorageBufferBindingSize;
      const fits = Math.floor(limit / (2 * 4096 * 4096 * 4));
      await expect(runTrainJob({ runDir, config, untilStep: 1 })).rejects.toThrow(
        `training.batchSize 16 needs one GPU buffer of 2.00 GiB for the attention weights at 64×64 (2 heads × 4096² per sample), ` +
          `but the adapter ${gpu.adapter!.description} allows `,
      );
      await expect(runTrainJob({ runDir, config, untilStep: 1 })).rejects.toThrow(`Set training.batchSize to ${fits} or less.`);
      expect(listCheckpoints(runDir)).toEqual([]);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  // Last: the recorded failure is for the life of the process, as a broken device is.
  it('an uncaptured GPU error is recorded with the adapter and its message', async () => {
    await selectBackend('webgpu');
    const seen: string[] = [];
    onWebGpuFailure((m) => seen.push(m));
    expect(webgpuFailure()).toBeNull();
    const device = activeWebGpuDevice() as { createBuffer(d: { size: number; usage: number }): unknown };
    // MAP_READ | MAP_WRITE together is invalid: Dawn raises a validation error nobody captures.
    device.createBuffer({ size: 16, usage: 0x0001 | 0x0002 });
    for (let i = 0; i < 50 && !webgpuFailure(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(webgpuFailure()).toMatch(new RegExp(`^WebGPU error on ${gpu.adapter!.description}: .+`));
    expect(seen).toEqual([webgpuFailure()]);

    // Reads that wait on the GPU now fail with that message instead of waiting on a broken device.
    const x = tf.tensor1d([1, 2, 3]);
    const plan = function* (): Reads<number> {
      const [v] = yield [x];
      return v.length;
    };
    await expect(readAsync(plan())).rejects.toThrow(webgpuFailure()!);
    await expect(readUint8Images(x)).rejects.toThrow(/^WebGPU error on /);
    x.dispose();
  });
});
