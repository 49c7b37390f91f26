/**
 * `backends()`: what the New run view shows before a run starts. A real worker process tries every backend of the
 * chain on this machine (no GPU; SwiftShader where Chromium is installed) and the service answers from memory after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './serviceHarness';
import { useSoftwareWebGpu } from '../backend/softwareWebGpu';

let h: Harness;
// The worker inherits this environment: with Chromium installed, Dawn finds SwiftShader.
const icd = useSoftwareWebGpu();
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.cleanup());

describe('backend availability', () => {
  it('lists the chain in order with why each is or is not usable, and marks the one auto picks', async () => {
    const list = await h.service.backends();
    expect(list.map((b) => b.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    expect(list.filter((b) => b.auto).map((b) => b.name)).toEqual(['wasm']);
    const by = Object.fromEntries(list.map((b) => [b.name, b]));
    expect(by['tensorflow-gpu']).toMatchObject({ available: false });
    expect(by['tensorflow-gpu'].detail).toMatch(/no NVIDIA GPU|CUDA_VISIBLE_DEVICES|not installed/);
    expect(by['tensorflow-gpu'].detail).toMatch(/\(fix: .*CUDA 11\.2 and cuDNN 8\.1\)$/);
    expect(by.wasm.available).toBe(true);
    expect(by.wasm.detail).toMatch(/^tfjs-backend-wasm \(XNNPACK.*\); native kernels: /);
    expect(by.cpu.available).toBe(true);
    if (icd) {
      expect(by.webgpu.available).toBe(true);
      expect(by.webgpu.auto).toBe(false);
      expect(by.webgpu.detail).toMatch(/^software adapter SwiftShader.*maxBufferSize .*\): used only when forced \(--backend webgpu\)/);
    } else {
      expect(by.webgpu).toMatchObject({ available: false });
      expect(by.webgpu.detail).toMatch(/no WebGPU adapter/);
    }
    // Asked once: the second call is answered from memory (the same answer, no second worker).
    expect(await h.service.backends()).toBe(list);
  });
});
