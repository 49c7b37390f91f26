import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';
import { activeNative, runNative } from './native';
import { timed } from './opTimer';
import { meanHW } from './reduce';
import { silu as siluOp, siluPlain } from './silu';
import type { NativeAddon } from '../native/loadNative';

/**
 * GroupNorm over NHWC: the C channels are split into `groups` contiguous groups; each sample's group is
 * normalised over (H, W, C/groups) with the biased variance, then scaled by gamma and shifted by beta.
 * The reference computes GroupNorm in float32 (GroupNorm32), eps 1e-5.
 *
 * On 'wasm' and 'cpu' this is the fused `groupNormFast`, elsewhere `groupNormPlain`.
 */
export function groupNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups = 32,
  eps = 1e-5,
): tf.Tensor4D {
  return useFastKernels() ? groupNormFast(x, gamma, beta, groups, eps, false) : groupNormPlain(x, gamma, beta, groups, eps);
}

/** SiLU(GroupNorm(x)): the pair every ResBlock and the output head use. */
export function groupNormSilu(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups = 32,
  eps = 1e-5,
): tf.Tensor4D {
  return useFastKernels()
    ? groupNormFast(x, gamma, beta, groups, eps, true)
    : groupNormSiluPlain(x, gamma, beta, groups, eps);
}

/**
 * SiLU(GroupNorm(x)·(1 + scale) + shift) with a per-sample scale and shift [B, C]: the ResBlocks of a model with
 * use_scale_shift_norm (SPEC §7: scale first, then shift, then SiLU). With the native kernels active it is one
 * op (the scale/shift keeps the normalisation a per-channel affine map); otherwise groupNorm, mul, add and silu,
 * each in its fast or plain form as the kernel mode says.
 */
export function groupNormScaleShiftSilu(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  scale: tf.Tensor2D,
  shift: tf.Tensor2D,
  groups = 32,
  eps = 1e-5,
): tf.Tensor4D {
  const [b, , , c] = x.shape;
  checkGroups(c, groups);
  const nat = useFastKernels() ? activeNative() : null;
  if (nat) return groupNormNative(nat, x, gamma, beta, groups, eps, true, { scale, shift });
  return tf.tidy(() => {
    const normed = groupNorm(x, gamma, beta, groups, eps);
    const s = tf.reshape(scale, [b, 1, 1, c]);
    const t = tf.reshape(shift, [b, 1, 1, c]);
    return siluOp(tf.add(tf.mul(normed, tf.add(s, 1)), t)) as tf.Tensor4D;
  });
}

/** The native GroupNorm (+ scale/shift) (+ SiLU) op; saves x, mean, rstd, gamma, beta (and scale, shift). */
function groupNormNative(
  nat: NativeAddon,
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  eps: number,
  silu: boolean,
  ss?: { scale: tf.Tensor2D; shift: tf.Tensor2D },
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const hw = h * w;
  for (const t of ss ? [ss.scale, ss.shift] : []) {
    if (t.shape[0] !== b || t.shape[1] !== c) throw new Error(`GroupNorm scale/shift must be [${b}, ${c}], got [${t.shape}]`);
  }
  const inputs: tf.Tensor[] = ss ? [x, gamma, beta, ss.scale, ss.shift] : [x, gamma, beta];
  return customOp<tf.Tensor4D>(inputs, (save) => {
    const [value, mean, rstd] = timed('native groupnorm fwd', () =>
      runNative([x, gamma, beta, ss?.scale ?? null, ss?.shift ?? null], [x.shape, [b, groups], [b, groups]], ([xd, gd, bd, sd, td], [yd, md, rd]) =>
        nat.groupNormForward(xd!, gd!, bd!, yd, md, rd, b, hw, c, groups, eps, silu, sd, td),
      ),
    );
    save(ss ? [x, mean, rstd, gamma, beta, ss.scale, ss.shift] : [x, mean, rstd, gamma, beta]);
    return {
      value: value as tf.Tensor4D,
      backward: (dy, [xs, mu, r, gm, bt, sc, sh]) =>
        timed('native groupnorm bwd', () =>
          runNative(
            [xs, gm, bt, mu, r, dy, sc ?? null, sh ?? null],
            ss ? [x.shape, [c], [c], [b, c], [b, c]] : [x.shape, [c], [c]],
            ([xd, gd, bd, md, rd, dyd, sd, td], [dxd, dgd, dbd, dsd, dtd]) =>
              nat.groupNormBackward(xd!, gd!, bd!, md!, rd!, dyd!, dxd, dgd, dbd, b, hw, c, groups, silu, sd, td, dsd ?? null, dtd ?? null),
          ),
        ),
    };
  });
}

function checkGroups(c: number, groups: number): void {
  if (c % groups !== 0) throw new Error(`GroupNorm: ${c} channels are not divisible by ${groups} groups`);
}

/** tf ops and tf's built-in gradients. */
export function groupNormPlain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups = 32,
  eps = 1e-5,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    checkGroups(c, groups);
    const grouped = tf.reshape(x, [b, h * w, groups, c / groups]);
    const { mean, variance } = tf.moments(grouped, [1, 3], true);
    const normed = tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(tf.reshape(normed, [b, h, w, c]), gamma), beta) as tf.Tensor4D;
  });
}

export function groupNormSiluPlain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups = 32,
  eps = 1e-5,
): tf.Tensor4D {
  return tf.tidy(() => siluPlain(groupNormPlain(x, gamma, beta, groups, eps)) as tf.Tensor4D);
}

/**
 * GroupNorm (+ SiLU when `silu`) as one op with its own gradient. Saves only x, the per-(sample, group) mean μ and
 * r = 1/σ, gamma and beta; the backward pass recomputes y = γx̂ + β.
 *
 * Shaped for wasm: every full-size op broadcasts a [B, 1, C] vector over the H·W positions (contiguous inner
 * dimension C; wasm's broadcasting kernels are ~8× slower on the grouped [B, HW, G, C/G] view), and every
 * reduction over H·W is a global average pool (meanHW). Per-group statistics are tiny [B, G, C/G] ops. Forward:
 *   μ, σ² two-pass (mean (x − μ)²),  y = x·A + K with A = rγ, K = β − μrγ.
 * Backward, with g = dy·SiLU'(y) (or dy), M1 = mean_hw g, M3 = mean_hw g·x (per sample and channel),
 * G = r(M3 − μM1) (= mean_hw g·x̂):
 *   dβ = HW Σ_b M1,  dγ = HW Σ_b G,  m1 = mean_grp γM1,  m2 = mean_grp γG,
 *   dx = g·(rγ) + x·(−r²m2) + r(μ r m2 − m1).
 * With the native kernels active (./native.ts) both passes run natively (one task per image), the same math with
 * centred sums in double (native/src/groupnorm.cc): float32-accurate also for a group whose mean is large against
 * its spread, where the forms above cancel (x·A + K, M3 − μM1).
 */
export function groupNormFast(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups = 32,
  eps = 1e-5,
  silu = false,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  checkGroups(c, groups);
  const hw = h * w;
  const cg = c / groups;
  /** [B, G] per-group values → [B, 1, C] per channel (each group's value repeated C/G times). */
  const perChannel = (v: tf.Tensor) => tf.reshape(tf.mul(tf.reshape(v, [b, groups, 1]), tf.ones([1, 1, cg])), [b, 1, c]);
  /** Mean over each group's channels: [B, C] → [B, G]. */
  const meanGroup = (v: tf.Tensor) => tf.mean(tf.reshape(v, [b, groups, cg]), 2);
  const hw4 = (v: tf.Tensor) => meanHW(tf.reshape(v, [b, h, w, c]) as tf.Tensor4D); // [B, C]
  const nat = activeNative();
  if (nat) return groupNormNative(nat, x, gamma, beta, groups, eps, silu);
  return customOp<tf.Tensor4D>([x, gamma, beta], (save) => {
    const [value, mean, rstd] = timed('groupnorm fwd', () => tf.tidy(() => {
      const x3 = tf.reshape(x, [b, hw, c]);
      const mu = meanGroup(meanHW(x)); // [B, G]
      const variance = meanGroup(hw4(tf.squaredDifference(x3, perChannel(mu))));
      const r = tf.rsqrt(tf.add(variance, eps)); // [B, G]
      const a = tf.mul(perChannel(r), gamma); // [B, 1, C]
      const k = tf.sub(beta, tf.mul(perChannel(mu), a));
      const y = tf.add(tf.mul(x3, a), k);
      const out = silu ? tf.mul(y, tf.sigmoid(y)) : y;
      return [tf.reshape(out, x.shape), mu, r];
    }));
    save([x, mean, rstd, gamma, beta]);
    return {
      value: value as tf.Tensor4D,
      backward: (dy, [xs, mu, r, gm, bt]) => timed('groupnorm bwd', () => {
        const x3 = tf.reshape(xs, [b, hw, c]);
        const a = tf.mul(perChannel(r), gm); // rγ, [B, 1, C]
        let g = tf.reshape(dy, [b, hw, c]);
        if (silu) {
          const y = tf.add(tf.mul(x3, a), tf.sub(bt, tf.mul(perChannel(mu), a)));
          const sg = tf.sigmoid(y);
          // SiLU'(y) = σ(y)·(1 + y·(1 − σ(y)))
          g = tf.mul(g, tf.mul(sg, tf.add(tf.mul(y, tf.sub(1, sg)), 1)));
        }
        const m1c = hw4(g); // [B, C]
        const gc = tf.mul(tf.reshape(perChannel(r), [b, c]), tf.sub(hw4(tf.mul(g, x3)), tf.mul(tf.reshape(perChannel(mu), [b, c]), m1c)));
        const dbeta = tf.mul(tf.sum(m1c, 0), hw);
        const dgamma = tf.mul(tf.sum(gc, 0), hw);
        const m1 = meanGroup(tf.mul(m1c, gm)); // [B, G]
        const m2 = meanGroup(tf.mul(gc, gm));
        const q = tf.neg(tf.mul(tf.square(r), m2)); // [B, G]
        const k = tf.mul(r, tf.sub(tf.mul(tf.mul(mu, r), m2), m1));
        const dx = tf.add(tf.add(tf.mul(g, a), tf.mul(x3, perChannel(q))), perChannel(k));
        return [tf.reshape(dx, x.shape), dgamma, dbeta];
      }),
    };
  });
}
