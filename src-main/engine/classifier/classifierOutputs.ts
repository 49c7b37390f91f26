/**
 * Runs images through a trained classifier: the penultimate layer's activations are the feature vectors
 * of FID / KID / precision-recall, the softmax of the logits the class probabilities of the IS analogue
 * and the class histogram.
 */
import * as tf from '@tensorflow/tfjs';
import type { FeatureSet } from '../metrics/features';
import type { ProbabilitySet } from '../metrics/inceptionScore';
import { checkpointLoop, type LoopControl } from '../diffusion/loopControl';
import { classifierForward, FEATURE_DIM, type ClassifierShape, type ParamSpec } from './network';

export interface ClassifierModel {
  readonly shape: ClassifierShape;
  readonly specs: readonly ParamSpec[];
  readonly params: Float32Array;
}

export interface ClassifierOutputSets {
  readonly features: FeatureSet;
  readonly probabilities: ProbabilitySet;
}

const BATCH = 256;

/** `images`: count NHWC images in [−1, 1] of the classifier's size and channels. */
export async function classifierOutputs(
  model: ClassifierModel,
  images: Float32Array,
  count: number,
  control?: LoopControl,
): Promise<ClassifierOutputSets> {
  const { size, channels, classes } = model.shape;
  const stride = size * size * channels;
  if (images.length !== count * stride) {
    throw new RangeError(`classifier input: ${images.length} values is not ${count} images of ${size}×${size}×${channels}`);
  }
  const features = new Float32Array(count * FEATURE_DIM);
  const probs = new Float32Array(count * classes);
  const params = tf.tensor1d(model.params);
  try {
    for (let start = 0; start < count; start += BATCH) {
      const n = Math.min(BATCH, count - start);
      const [f, p] = tf.tidy(() => {
        const x = tf.tensor4d(images.subarray(start * stride, (start + n) * stride), [n, size, size, channels]);
        const out = classifierForward(model.specs, params, x);
        return [out.features.dataSync(), tf.softmax(out.logits).dataSync()];
      });
      features.set(f, start * FEATURE_DIM);
      probs.set(p, start * classes);
      control?.onProgress?.(start + n, count);
      await checkpointLoop(control, 'classifier features');
    }
  } finally {
    params.dispose();
  }
  return {
    features: { count, dim: FEATURE_DIM, data: features },
    probabilities: { count, classes, data: probs },
  };
}
