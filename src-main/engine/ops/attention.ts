import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';
import { activeNative, runNative } from './native';
import { timed } from './opTimer';

/**
 * Multi-head self-attention over positions, with the reference's head layout (SPEC §7):
 * qkv is [B, T, 3C] where T = H·W; head h owns the contiguous channel block [h·3C/heads, (h+1)·3C/heads),
 * split into [q | k | v] of d = C/heads channels each. weights = softmax((q·d^-¼)ᵀ(k·d^-¼)) over the key
 * positions; the result is [B, T, C] with head h in channels [h·d, (h+1)·d).
 *
 * qkv may also keep the positions as several axes ([B, H, W, 3C], an NHWC activation): the result then has them
 * too ([B, H, W, C]), with no reshape on either side (natively the positions are just rows).
 *
 * On 'wasm' and 'cpu' this is `attentionCoreFast`, elsewhere `attentionCorePlain`.
 */
export function attentionCore<R extends tf.Rank>(qkv: tf.Tensor<R>, heads: number): tf.Tensor<R> {
  return useFastKernels() ? attentionCoreFast(qkv, heads) : attentionCorePlain(qkv, heads);
}

/** B, T (the positions, all middle axes), 3C, and the output shape [B, …positions, C]. */
function attentionShapes(qkv: tf.Tensor): { b: number; t: number; c3: number; outShape: number[] } {
  if (qkv.rank < 3) throw new Error(`attention: qkv must be [B, positions…, 3C], got shape [${qkv.shape}]`);
  const b = qkv.shape[0];
  const c3 = qkv.shape[qkv.rank - 1];
  const t = qkv.shape.slice(1, -1).reduce((a, v) => a * v, 1);
  return { b, t, c3, outShape: [...qkv.shape.slice(0, -1), c3 / 3] };
}

/** `f` on qkv as [B, T, 3C], its [B, T, C] result back in qkv's position axes. */
function asSequence<R extends tf.Rank>(qkv: tf.Tensor<R>, f: (q3: tf.Tensor3D) => tf.Tensor3D): tf.Tensor<R> {
  if (qkv.rank === 3) return f(qkv as unknown as tf.Tensor3D) as unknown as tf.Tensor<R>;
  const { b, t, c3, outShape } = attentionShapes(qkv);
  return tf.tidy(() => tf.reshape<tf.Rank>(f(tf.reshape(qkv, [b, t, c3])), outShape) as tf.Tensor<R>);
}

function headSize(c3: number, heads: number): number {
  const d = c3 / 3 / heads;
  if (!Number.isInteger(d)) throw new Error(`attention: ${c3 / 3} channels are not divisible by ${heads} heads`);
  return d;
}

/** Batched matMuls (with a transpose flag) and tf's built-in gradients. */
export function attentionCorePlain<R extends tf.Rank>(qkv: tf.Tensor<R>, heads: number): tf.Tensor<R> {
  return asSequence(qkv, (q3) => attentionCorePlain3d(q3, heads));
}

function attentionCorePlain3d(qkv: tf.Tensor3D, heads: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, t, c3] = qkv.shape;
    const d = headSize(c3, heads);
    // [B, T, heads, 3, d] → [B, heads, T, 3, d]
    const perHead = tf.transpose(tf.reshape(qkv, [b, t, heads, 3, d]), [0, 2, 1, 3, 4]);
    const scale = 1 / Math.sqrt(Math.sqrt(d));
    const [q, k, v] = tf.split(perHead, 3, 3).map((p) => tf.reshape(p, [b * heads, t, d]));
    const logits = tf.matMul(tf.mul(q, scale), tf.mul(k, scale), false, true); // [BH, T, T]
    const weights = tf.softmax(logits);
    const out = tf.matMul(weights, v); // [BH, T, d]
    return tf.reshape(tf.transpose(tf.reshape(out, [b, heads, t, d]), [0, 2, 1, 3]), [b, t, heads * d]) as tf.Tensor3D;
  });
}

/**
 * Same value with its own gradient, shaped for wasm: every matMul is a 2-D matMul without transpose flags, one
 * per (batch·head) (the only shape wasm's BatchMatMul runs through XNNPACK); every transpose is rank ≤ 4 (wasm's
 * rank-5 transpose takes ~50 ms for a 16×16×384 qkv at batch 8). XNNPACK packs a matMul's right operand on
 * every call, so the right operand is always a [T, d] or [d, T] tensor, never a [T, T] one (those are
 * transposed explicitly instead). Saves the head-major qkv (q pre-scaled) and each head's softmax weights.
 *
 * With s = d^-½: L = (s·q) kᵀ, W = softmax(L), O = W v. Backward, per head, with dO:
 *   dv = Wᵀ dO,  dW = dO vᵀ,  dL = W ⊙ (dW − rowsum(dW ⊙ W)),  dq = s·dL k,  dk = dLᵀ (s·q).
 * With the native kernels active (./native.ts) the same computation runs natively, one task per (batch, head),
 * saving qkv itself and the softmax weights.
 */
export function attentionCoreFast<R extends tf.Rank>(qkv: tf.Tensor<R>, heads: number): tf.Tensor<R> {
  const nat = activeNative();
  if (!nat) return asSequence(qkv, (q3) => attentionCoreFast3d(q3, heads));
  const { b, t, c3, outShape } = attentionShapes(qkv);
  const d = headSize(c3, heads);
  const bh = b * heads;
  return customOp<tf.Tensor<R>>([qkv], (save) => {
    const [out, weights] = timed('native attention fwd', () =>
      runNative([qkv], [outShape, [bh, t, t]], ([q], [o, w]) => nat.attentionForward(q!, o, w, b, t, heads, d)),
    );
    save([qkv, weights]);
    return {
      value: out as tf.Tensor<R>,
      backward: (dy, [q0, w0]) =>
        timed('native attention bwd', () =>
          runNative([q0, w0, dy], [qkv.shape], ([q, w, g], [dq]) => nat.attentionBackward(q!, w!, g!, dq, b, t, heads, d)),
        ),
    };
  });
}

/** attentionCoreFast from tfjs ops (without the native kernels). */
function attentionCoreFast3d(qkv: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [b, t, c3] = qkv.shape;
  const d = headSize(c3, heads);
  const bh = b * heads;
  const s = 1 / Math.sqrt(d); // (d^-¼)² applied once, to q
  return customOp<tf.Tensor3D>([qkv], (save) => {
    const [headMajor, out, ...weights] = timed('attention fwd', () => tf.tidy(() => {
      // Scale the q channels, then [B, T, 3·heads, d] → [B, 3·heads, T, d]: slot 3i, 3i+1, 3i+2 = q, k, v of head i.
      const colScale = tf.tile(tf.tensor1d([...new Array<number>(d).fill(s), ...new Array<number>(2 * d).fill(1)]), [heads]);
      const hm = tf.transpose(tf.reshape(tf.mul(qkv, colScale), [b, t, 3 * heads, d]), [0, 2, 1, 3]);
      const parts = tf.unstack(tf.reshape(hm, [3 * bh, t, d])); // [T, d] each
      const partsT = tf.unstack(tf.reshape(tf.transpose(hm, [0, 1, 3, 2]), [3 * bh, d, t])); // [d, T] each
      const ws: tf.Tensor[] = [];
      const os: tf.Tensor[] = [];
      for (let i = 0; i < bh; i++) {
        const w = tf.softmax(tf.matMul(parts[3 * i] as tf.Tensor2D, partsT[3 * i + 1] as tf.Tensor2D));
        ws.push(w);
        os.push(tf.matMul(w as tf.Tensor2D, parts[3 * i + 2] as tf.Tensor2D));
      }
      // [B·heads, T, d] → [B, T, heads, d]
      const o = tf.reshape(tf.transpose(tf.reshape(tf.stack(os), [b, heads, t, d]), [0, 2, 1, 3]), [b, t, heads * d]);
      return [hm, o, ...ws];
    }));
    save([headMajor, ...weights]);
    return {
      value: out as tf.Tensor3D,
      backward: (dy, [hm, ...ws]) => timed('attention bwd', () => {
        const dy4 = tf.reshape(dy, [b, t, heads, d]);
        const dOs = tf.unstack(tf.reshape(tf.transpose(dy4, [0, 2, 1, 3]), [bh, t, d])); // [T, d]
        const parts = tf.unstack(tf.reshape(hm, [3 * bh, t, d]));
        const partsT = tf.unstack(tf.reshape(tf.transpose(hm, [0, 1, 3, 2]), [3 * bh, d, t]));
        const dq: tf.Tensor[] = [];
        const dk: tf.Tensor[] = [];
        const dv: tf.Tensor[] = [];
        for (let i = 0; i < bh; i++) {
          const w = ws[i] as tf.Tensor2D;
          // XNNPACK packs the right operand on every call: keep it [T, d], and transpose the [T, T] left one.
          dv.push(tf.matMul(tf.transpose(w), dOs[i] as tf.Tensor2D));
          const dw = tf.matMul(dOs[i] as tf.Tensor2D, partsT[3 * i + 2] as tf.Tensor2D);
          const dl = tf.mul(w, tf.sub(dw, tf.sum(tf.mul(dw, w), 1, true))) as tf.Tensor2D;
          dq.push(tf.matMul(dl, parts[3 * i + 1] as tf.Tensor2D));
          dk.push(tf.matMul(tf.transpose(dl), parts[3 * i] as tf.Tensor2D));
        }
        // Back to [B, T, heads, d] each (rank-4 transposes), then interleave q|k|v per head: [B·T·heads, 3, d].
        const toBthd = (g: tf.Tensor[], scale?: number) => {
          const st = tf.stack(g);
          return tf.transpose(tf.reshape(scale ? tf.mul(st, scale) : st, [b, heads, t, d]), [0, 2, 1, 3]);
        };
        const [dq4, dk4, dv4] = [toBthd(dq, s), toBthd(dk), toBthd(dv)];
        const flat = (g: tf.Tensor) => tf.reshape(g, [b * t * heads, 1, d]);
        return [tf.reshape(tf.concat([flat(dq4), flat(dk4), flat(dv4)], 1), [b, t, c3])];
      }),
    };
  });
}
