import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';
import { activeNative, runNative } from './native';
import { timed } from './opTimer';
import type { ConvDims } from '../native/loadNative';
import { sumBHW } from './reduce';

/** 'same' (stride 1 only: symmetric), or explicit [[top,bottom],[left,right]] zero padding then 'valid'. */
export type Conv2dPadding = 'same' | 'valid' | [[number, number], [number, number]];

/**
 * 2-D convolution, NHWC input, HWIO filter [kh, kw, in, out], optional bias, optional `residual` (a tensor of the
 * output's shape added to it: a ResBlock's skip connection).
 * Stride-2 downsampling must pass explicit [[1,1],[1,1]] padding: TF's 'same' pads (0,1) for even inputs,
 * the reference pads 1 on every side.
 *
 * On 'wasm' and 'cpu' this runs `conv2dFast` (gradients from forward kernels only), elsewhere `conv2dPlain`.
 */
export function conv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  stride: number,
  padding: Conv2dPadding,
  residual?: tf.Tensor4D,
): tf.Tensor4D {
  return useFastKernels() ? conv2dFast(x, filter, bias, stride, padding, residual) : withResidual(conv2dPlain(x, filter, bias, stride, padding), residual);
}

/** residual + y as tf.add (the order the model had before the native kernels fused it), or y alone. */
function withResidual(y: tf.Tensor4D, residual: tf.Tensor4D | undefined): tf.Tensor4D {
  if (!residual) return y;
  if (residual.shape.join() !== y.shape.join()) throw new Error(`conv2d: the residual has shape [${residual.shape}], the output [${y.shape}]`);
  return tf.tidy(() => tf.add(residual, y));
}

/** tf's own conv2d and its built-in gradients (Conv2DBackpropInput/Filter). */
export function conv2dPlain(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  stride: number,
  padding: Conv2dPadding,
): tf.Tensor4D {
  return tf.tidy(() => {
    let input = x;
    let pad: 'same' | 'valid' = 'valid';
    if (padding === 'same') pad = 'same';
    else if (padding !== 'valid') input = tf.pad(x, [[0, 0], padding[0], padding[1], [0, 0]]);
    const y = tf.conv2d(input, filter, stride, pad);
    return (bias ? tf.add(y, bias) : y) as typeof y;
  });
}

/** Zero padding [top, bottom, left, right] that `padding` means for this input and kernel (TF's rule for 'same'). */
export function resolveConvPadding(
  padding: Conv2dPadding,
  inH: number,
  inW: number,
  kh: number,
  kw: number,
  stride: number,
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const padH = Math.max((Math.ceil(inH / stride) - 1) * stride + kh - inH, 0);
    const padW = Math.max((Math.ceil(inW / stride) - 1) * stride + kw - inW, 0);
    const top = Math.floor(padH / 2);
    const left = Math.floor(padW / 2);
    return [top, padH - top, left, padW - left];
  }
  const [[t, b], [l, r]] = padding;
  if ([t, b, l, r].some((p) => !Number.isInteger(p) || p < 0)) throw new Error(`conv2d: bad padding ${JSON.stringify(padding)}`);
  return [t, b, l, r];
}

type Pads = [number, number, number, number];

/**
 * Forward conv2d whose gradients use only forward kernels (TFJS-CPU-NOTES.md): wasm has no
 * Conv2DBackpropFilter and a scalar-loop Conv2DBackpropInput.
 *  - dx: forward conv of the zero-dilated (stride > 1), padded dy with the 180°-rotated filter, in/out swapped;
 *  - dW: forward conv over transposed tensors: x as [Ci,H,W,B] (padded), dy as a filter [Ho,Wo,B,Co],
 *    dilation = stride, 'valid' → [Ci,KH,KW,Co] → transposed to [KH,KW,Ci,Co] (on wasm at stride 1: one 2-D
 *    matMul per kernel tap instead, see convFilterGradTaps);
 *  - db: sum of dy (as a global average pool: reductions over leading axes transpose first on wasm).
 * A 1×1, stride-1, unpadded conv is a matMul with 2-D matMul gradients.
 *
 * With the native kernels active (./native.ts) the forward pass and both gradients (and db) run natively instead.
 */
export function conv2dFast(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  stride: number,
  padding: Conv2dPadding,
  residual?: tf.Tensor4D,
): tf.Tensor4D {
  const [, inH, inW, ci] = x.shape;
  const [kh, kw, fci] = filter.shape;
  if (fci !== ci) throw new Error(`conv2d: input has ${ci} channels, filter expects ${fci}`);
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`conv2d: bad stride ${stride}`);
  const pads = resolveConvPadding(padding, inH, inW, kh, kw, stride);
  const pointwise = kh === 1 && kw === 1 && stride === 1 && pads.every((p) => p === 0);
  const inputs: tf.Tensor[] = bias ? [x, filter, bias] : [x, filter];
  const nat = activeNative();
  if (nat) {
    const co = filter.shape[3];
    const outH = Math.floor((inH + pads[0] + pads[1] - kh) / stride) + 1;
    const outW = Math.floor((inW + pads[2] + pads[3] - kw) / stride) + 1;
    const outShape = [x.shape[0], outH, outW, co];
    if (residual && residual.shape.join() !== outShape.join()) {
      throw new Error(`conv2d: the residual has shape [${residual.shape}], the output [${outShape}]`);
    }
    // The residual is added inside the conv's own pass (the sum starts from it) when the addon can; its gradient
    // is dy itself.
    const fuse = residual && nat.conv2dForwardAdd ? residual : null;
    if (outH > 0 && outW > 0) {
      const dims: ConvDims = [x.shape[0], inH, inW, ci, kh, kw, co, stride, pads[0], pads[2], outH, outW];
      const tag = pointwise ? 'native conv1x1' : 'native conv';
      const value = customOp<tf.Tensor4D>(fuse ? [...inputs, fuse] : inputs, (save) => {
        const [value] = timed(`${tag} fwd`, () =>
          fuse
            ? runNative([x, filter, bias, fuse], [outShape], ([xd, wd, bd, rd], [yd]) => nat.conv2dForwardAdd!(xd!, wd!, bd, rd!, yd, ...dims))
            : runNative([x, filter, bias], [outShape], ([xd, wd, bd], [yd]) => nat.conv2dForward(xd!, wd!, bd, yd, ...dims)),
        );
        save([x, filter]);
        return {
          value: value as tf.Tensor4D,
          backward: (dy, [xs, ws]) => {
            const [dx] = timed(`${tag} dx`, () => runNative([dy, ws], [xs.shape], ([dyd, wd], [dxd]) => nat.conv2dInputGrad(dyd!, wd!, dxd, ...dims)));
            const grads = timed(`${tag} dW`, () =>
              runNative([xs, dy], bias ? [ws.shape, [co]] : [ws.shape], ([xd, dyd], [dwd, dbd]) =>
                nat.conv2dFilterGrad(xd!, dyd!, dwd, dbd ?? null, ...dims),
              ),
            );
            return fuse ? [dx, ...grads, dy] : [dx, ...grads];
          },
        };
      });
      return fuse ? value : withResidual(value, residual);
    }
  }
  return withResidual(customOp<tf.Tensor4D>(inputs, (save) => {
    const value = timed(pointwise ? 'conv1x1 fwd' : 'conv fwd', () => tf.tidy(() => {
      const y = pointwise ? pointwiseForward(x, filter) : tf.conv2d(x, filter, stride, explicit(pads));
      return bias ? tf.add<tf.Tensor4D>(y, bias) : y;
    }));
    save([x, filter]);
    return {
      value,
      backward: (dy, [xs, ws]) => {
        const x0 = xs as tf.Tensor4D;
        const w0 = ws as tf.Tensor4D;
        const grads = pointwise
          ? timed('conv1x1 bwd', () => pointwiseBackward(x0, w0, dy))
          : [
              timed('conv dx', () => convInputGrad(dy, w0, x0.shape, stride, pads)),
              timed('conv dW', () => convFilterGrad(x0, dy, w0.shape, stride, pads)),
            ];
        if (bias) grads.push(timed('conv db', () => sumBHW(dy)));
        return grads;
      },
    };
  }), residual);
}

function explicit(p: Pads): [[number, number], [number, number], [number, number], [number, number]] {
  return [[0, 0], [p[0], p[1]], [p[2], p[3]], [0, 0]];
}

function pointwiseForward(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const [b, h, wd, ci] = x.shape;
  const co = w.shape[3];
  return tf.reshape(tf.matMul(tf.reshape(x, [b * h * wd, ci]), tf.reshape(w, [ci, co])), [b, h, wd, co]);
}

function pointwiseBackward(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor[] {
  const [b, h, wd, ci] = x.shape;
  const co = w.shape[3];
  const dy2 = tf.reshape(dy, [b * h * wd, co]);
  const dx = tf.reshape(tf.matMul(dy2, tf.transpose(tf.reshape(w, [ci, co]))), x.shape);
  const dw = tf.reshape(tf.matMul(tf.transpose(tf.reshape(x, [b * h * wd, ci])), dy2), w.shape);
  return [dx, dw];
}

/** [B,H,W,C] → [B,(H-1)s+1 … H·s, …]: s−1 zeros after every element along H and W (trailing zeros kept). */
function zeroDilate(dy: tf.Tensor4D, s: number): tf.Tensor4D {
  const [b, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [b, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]);
  return tf.reshape(spread, [b, h * s, w * s, c]);
}

/**
 * Crop/pad along one spatial axis: keep [start, end) of a length-`len` axis, then pad `before`/`after`.
 * Negative pads become crops (the conv kernels only take non-negative padding).
 */
function cropPad(before: number, after: number, len: number): { start: number; end: number; before: number; after: number } {
  return { start: Math.max(0, -before), end: len + Math.min(0, after), before: Math.max(0, before), after: Math.max(0, after) };
}

function convInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: number[], s: number, pads: Pads): tf.Tensor4D {
  const [, inH, inW] = xShape;
  const [kh, kw] = w.shape;
  // Zero-dilated dy has its content in rows 0, s, 2s, … (Ho−1)s and s−1 zero rows after the last one.
  const d = s > 1 ? zeroDilate(dy, s) : dy;
  const [, lh, lw] = d.shape;
  const v = cropPad(kh - 1 - pads[0], inH + pads[0] - lh, lh);
  const h = cropPad(kw - 1 - pads[2], inW + pads[2] - lw, lw);
  let z = d;
  if (v.start > 0 || v.end < lh || h.start > 0 || h.end < lw) {
    z = tf.slice(d, [0, v.start, h.start, 0], [-1, v.end - v.start, h.end - h.start, -1]);
  }
  const wRot = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]); // [kh,kw,Co,Ci], rotated 180°
  return tf.conv2d(z, wRot, 1, [[0, 0], [v.before, v.after], [h.before, h.after], [0, 0]]);
}

function convFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, wShape: number[], s: number, pads: Pads): tf.Tensor4D {
  if (s === 1 && tf.getBackend() === 'wasm') return convFilterGradTaps(x, dy, wShape, pads);
  const [, inH, inW] = x.shape;
  const [kh, kw] = wShape;
  const [, outH, outW] = dy.shape;
  // Padded rows actually read by the forward pass: (Ho−1)s + kh (the rest of a 'valid'/stride remainder is unused).
  const v = cropPad(pads[0], (outH - 1) * s + kh - inH - pads[0], inH);
  const h = cropPad(pads[2], (outW - 1) * s + kw - inW - pads[2], inW);
  let xc = x;
  if (v.start > 0 || v.end < inH || h.start > 0 || h.end < inW) {
    xc = tf.slice(x, [0, v.start, h.start, 0], [-1, v.end - v.start, h.end - h.start, -1]);
  }
  const xT = tf.transpose(xc, [3, 1, 2, 0]); // [Ci, H, W, B]
  const dyF = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, B, Co] as a filter
  const g = tf.conv2d(xT, dyF, 1, [[0, 0], [v.before, v.after], [h.before, h.after], [0, 0]], 'NHWC', s); // [Ci,kh,kw,Co]
  return tf.transpose(g, [1, 2, 0, 3]);
}

/**
 * Stride-1 filter gradient on wasm as one 2-D matMul per kernel tap, ~15–25% faster there than the transposed
 * conv (XNNPACK's conv runs poorly with the batch as its input channels). On the flattened padded grid
 * (N = B·Hp·Wp positions), tap (i, j) is a shift by o = i·Wp + j:  dW[i,j] = xᵀ[:, o : o+L] · dyP[0 : L]
 * with dy zero-padded to the same grid (so shifts never mix rows or images) and L = N − max shift.
 * The [Ci, L] windows are row slices (copied by the fixed Slice kernel); dyP is the same right operand for
 * every tap, so XNNPACK packs it once. Not for the cpu backend, whose non-contiguous Slice is very slow.
 */
function convFilterGradTaps(x: tf.Tensor4D, dy: tf.Tensor4D, wShape: number[], pads: Pads): tf.Tensor4D {
  const [b, inH, inW, ci] = x.shape;
  const [kh, kw, , co] = wShape;
  const hp = inH + pads[0] + pads[1];
  const wp = inW + pads[2] + pads[3];
  const n = b * hp * wp;
  const len = n - ((kh - 1) * wp + (kw - 1));
  const xT = tf.transpose(tf.reshape(tf.pad(x, explicit(pads)), [n, ci])); // [Ci, N]
  const dyP = tf.reshape(tf.pad(dy, [[0, 0], [0, kh - 1], [0, kw - 1], [0, 0]]), [n, co]);
  const dyW = tf.slice(dyP, [0, 0], [len, co]);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      taps.push(tf.tidy(() => tf.matMul(tf.slice(xT, [0, i * wp + j], [ci, len]) as tf.Tensor2D, dyW as tf.Tensor2D)));
    }
  }
  return tf.reshape(tf.stack(taps), [kh, kw, ci, co]);
}
