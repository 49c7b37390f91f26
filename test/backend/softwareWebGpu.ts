/**
 * Puts a real WebGPU adapter within reach of the tests on a machine without a GPU: Chromium ships SwiftShader,
 * a Vulkan driver on the CPU (`vk_swiftshader_icd.json` next to `libvk_swiftshader.so`), and its own Vulkan loader
 * `libvulkan.so.1`. Pointing VK_ICD_FILENAMES at the ICD (and IDDPM_VULKAN_LOADER at Chromium's loader where the
 * system has none) makes Dawn's requestAdapter() return "SwiftShader". Not a test file itself.
 *
 * Call `useSoftwareWebGpu()` before anything loads Dawn; `softwareWebGpu()` then says whether an adapter can be
 * had and, where not, why (tests skip with that reason printed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requestWebGpuAdapter, VULKAN_LOADER_ENV, type WebGpuAdapterInfo } from '../../src-main/engine/backend/webgpu';

const KNOWN_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib64/chromium/vk_swiftshader_icd.json'];
const SYSTEM_LOADERS = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

function findSwiftShaderIcd(): string | null {
  if (process.platform !== 'linux') return null;
  for (const pkg of ['chromium', 'chromium-common']) {
    try {
      const files = execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const icd = files.split('\n').find((f) => f.endsWith('/vk_swiftshader_icd.json'));
      if (icd && existsSync(icd)) return icd;
    } catch {
      // no dpkg, or the package is not installed
    }
  }
  return KNOWN_ICDS.find((f) => existsSync(f)) ?? null;
}

/** Sets the environment for SwiftShader (inherited by worker processes too). Returns the ICD, or null. */
export function useSoftwareWebGpu(env: NodeJS.ProcessEnv = process.env): string | null {
  const icd = findSwiftShaderIcd();
  if (!icd) return null;
  env.VK_ICD_FILENAMES = icd;
  env.XDG_RUNTIME_DIR ??= mkdtempSync(path.join(os.tmpdir(), 'iddpm-xdg-'));
  const bundled = path.join(path.dirname(icd), 'libvulkan.so.1');
  if (!SYSTEM_LOADERS.some((f) => existsSync(f)) && existsSync(bundled)) env[VULKAN_LOADER_ENV] = bundled;
  return icd;
}

export type SoftwareWebGpu = { adapter: WebGpuAdapterInfo; skip: null } | { adapter: null; skip: string };

/** Sets up SwiftShader and asks Dawn for an adapter; prints why when there is none. */
export async function softwareWebGpu(): Promise<SoftwareWebGpu> {
  const icd = useSoftwareWebGpu();
  try {
    const adapter = await requestWebGpuAdapter();
    return { adapter, skip: null };
  } catch (err) {
    const why = `${(err as Error).message}${icd ? ` (with VK_ICD_FILENAMES=${icd})` : ' (no SwiftShader ICD: install Debian chromium)'}`;
    console.warn(`WebGPU tests skipped: ${why}`);
    return { adapter: null, skip: why };
  }
}
