/** Backend selection for the engine worker, and the wasm kernel fixes it installs. */
export {
  selectBackend,
  describeBackend,
  detectNvidiaGpu,
  explainNativeLoadError,
  defaultProbe,
  type BackendName,
  type BackendPreference,
  type BackendProbe,
  type BackendReport,
  type GpuDeviceInfo,
  type SelectOptions,
  type WasmInfo,
} from './selectBackend';
export { installWasmKernelFixes, restoreWasmKernels, wasmKernelFixesInstalled } from './wasmKernels';
export {
  requestWebGpuAdapter,
  activateWebGpu,
  activeAdapter,
  adapterName,
  describeAdapter,
  isSoftwareAdapter,
  webgpuFailure,
  onWebGpuFailure,
  assertWebGpuHealthy,
  VULKAN_LOADER_ENV,
  type WebGpuAdapterInfo,
} from './webgpu';
