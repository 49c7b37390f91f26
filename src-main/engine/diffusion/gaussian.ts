/**
 * Gaussian helpers of the losses (SPEC §4), elementwise on float32 tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { sharedHandle, tidy, unaryCustomGrad } from '../tensorScope';

type T = tf.Tensor;
type Operand = T | number;

/** KL(N(m1, e^lv1) ‖ N(m2, e^lv2)) per element, in nats, summed in the reference's order. */
export function normalKl(mean1: Operand, logvar1: Operand, mean2: Operand, logvar2: Operand): T {
  return tidy(() => {
    const lv1 = tf.scalar(0).add(logvar1);
    const diff = tf.sub(mean1, mean2);
    return tf
      .add(-1, logvar2)
      .sub(lv1)
      .add(tf.exp(tf.sub(lv1, logvar2)))
      .add(tf.mul(tf.square(diff), tf.exp(tf.neg(logvar2))))
      .mul(0.5);
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * |z| above which the reference's float32 tanh returns exactly ±1. PyTorch's CPU kernels use SLEEF's
 * tanhf, which saturates there; a correctly rounded tanh still gives 1 − 6e-8 up to |z| ≈ 8.95. The
 * difference matters: in the tails the CDF is then 0 (log floored to 1e-12) instead of 3e-8, ~10 nats
 * per pixel of decoder NLL. Saturating at the same point reproduces the reference's bits/dim.
 */
const TANH_SATURATION = 8.664339742;

/**
 * tanh in float32 with the reference's saturation to ±1. The gradient is dy·(1 − y²) from the output,
 * as torch's tanh backward computes it (so it is exactly 0 where the output saturated).
 */
const referenceTanh = unaryCustomGrad((z, save) => {
  const y = tidy(() => tf.where(tf.greater(tf.abs(z), TANH_SATURATION), tf.sign(z), tf.tanh(z)));
  save([y]);
  return {
    value: y,
    gradFunc: (dy, saved) => tf.mul(dy, tf.sub(1, tf.square(saved[0]))),
  };
});

/**
 * The reference's tanh approximation of the standard normal CDF. Used instead of erf on purpose. x³ is (x·x)·x, as
 * PyTorch's CPU pow computes an exponent of 3 (and two multiplies instead of tfjs's much slower Pow kernel).
 */
export function approxStandardNormalCdf(x: T): T {
  return tidy(() =>
    referenceTanh(tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(0.044715, tf.mul(tf.mul(x, x), x))))).add(1).mul(0.5),
  );
}

/** Half a bin of an 8-bit image scaled to [−1, 1]. */
const HALF_BIN = 1 / 255;
const LOG_FLOOR = 1e-12;

/**
 * log-likelihood of x (8-bit values scaled to [−1,1]) under a Gaussian discretised to the 256 bins,
 * with the outermost bins extended to ±∞. Per element, in nats.
 */
export function discretizedGaussianLogLikelihood(x: T, means: T, logScales: T): T {
  return tidy(() => {
    const centered = tf.sub(x, means);
    const invStdv = tf.exp(tf.neg(logScales));
    const cdfPlus = approxStandardNormalCdf(tf.mul(invStdv, tf.add(centered, HALF_BIN)));
    const cdfMin = approxStandardNormalCdf(tf.mul(invStdv, tf.sub(centered, HALF_BIN)));
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, LOG_FLOOR));
    const logOneMinusCdfMin = tf.log(tf.maximum(tf.sub(1, cdfMin), LOG_FLOOR));
    const logCdfDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMin), LOG_FLOOR));
    return tf.where(
      tf.less(x, -0.999),
      logCdfPlus,
      tf.where(tf.greater(x, 0.999), logOneMinusCdfMin, logCdfDelta),
    );
  });
}

/** Mean over every axis but the batch axis. */
export function meanFlat(x: T): tf.Tensor1D {
  return tidy(() => (x.rank <= 1 ? x.clone() : tf.mean(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1))) as tf.Tensor1D);
}

/**
 * Identity forward, zero gradient: the reference's `.detach()`, used so that the vb term of L_hybrid
 * trains only the variance channels. On 'wasm' and 'cpu' a handle on the same buffer that no tape records, so the
 * backward pass skips whatever depends on it alone (L_hybrid's mean path of the vb term, whose gradient the zero
 * would discard); elsewhere an op with a zero gradient.
 */
export function stopGradient<R extends T>(x: R): R {
  return (sharedHandle(x) ?? zeroGradient(x)) as R;
}

const zeroGradient = unaryCustomGrad((x) => ({
  value: x.clone(),
  gradFunc: (dy) => tf.zerosLike(dy),
}));
