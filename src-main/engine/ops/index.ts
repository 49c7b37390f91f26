/**
 * The tensor operations the UNet is built from, NHWC. Each has the reference's semantics; the
 * implementations behind them choose fast kernels and gradients per backend (see TFJS-CPU-NOTES.md).
 * The UNet imports only from here, so a faster kernel never changes model code.
 *
 * Each op decides per call from tf.getBackend(): on 'wasm' and 'cpu' it runs its `…Fast` form (own gradient
 * built from forward kernels and 2-D matMuls only), elsewhere (tfjs-node, tfjs-node-gpu) its `…Plain` form
 * (tf's ops and built-in gradients). `setKernelMode('fast' | 'plain')` forces one side (tests, benchmarks).
 */
export { conv2d, type Conv2dPadding } from './conv2d';
export { dense } from './dense';
export { groupNorm, groupNormSilu, groupNormScaleShiftSilu } from './groupNorm';
export { silu } from './silu';
export { attentionCore } from './attention';
export { upsampleNearest2x } from './upsample';
export { concatChannels } from './concatChannels';

export { setKernelMode, getKernelMode, useFastKernels, type KernelMode } from './kernelMode';
export { setNativeKernels, nativeKernelsEnabled, activeNative, setNativeThreads } from './native';
export { conv2dFast, conv2dPlain, resolveConvPadding } from './conv2d';
export { denseFast, densePlain } from './dense';
export { groupNormFast, groupNormPlain, groupNormSiluPlain } from './groupNorm';
export { siluFast, siluPlain } from './silu';
export { attentionCoreFast, attentionCorePlain } from './attention';
export { upsampleNearest2xFast, upsampleNearest2xPlain } from './upsample';
