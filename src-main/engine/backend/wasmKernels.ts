/**
 * Re-registered tfjs-backend-wasm kernels that stop copying memory for nothing (TFJS-CPU-NOTES.md):
 *
 * - `Identity` copied its input; tfjs runs it for every tensor saved for backprop (`tf.clone`), so a training
 *   step held a second copy of every saved activation. It now shares the buffer by reference count, as the cpu
 *   backend and wasm's own `Reshape` do (tensors are immutable; no kernel writes into its inputs).
 * - `Slice` read the WHOLE input through `readSync` (a full heap copy) for every slice; `SplitV` and `Unpack`
 *   call it once per output. They now copy only the sliced region, straight from heap views.
 * - `Concat` made a `subarray` view per row and input: concatenating two [8,32,32,3] tensors on the channel
 *   axis (the hybrid loss does it, and its gradient) took ~4 ms. It now copies short runs element by element.
 *
 * Global side effect: replaces those four kernels for the 'wasm' backend in tfjs's kernel registry for the whole
 * process. Idempotent; `restoreWasmKernels()` puts the originals back (used by tests and benchmarks).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: tf.KernelBackend };
type Heap = Float32Array | Int32Array | Uint8Array;

const KERNELS = ['Identity', 'Slice', 'SplitV', 'Unpack', 'Concat'] as const;
const originals = new Map<string, tf.KernelConfig>();

/** True while our kernels are the registered ones. */
export function wasmKernelFixesInstalled(): boolean {
  return originals.size > 0;
}

/** Replace Identity/Slice/SplitV/Unpack on 'wasm' with the copy-free versions. Call after the wasm backend is registered. */
export function installWasmKernelFixes(): void {
  if (originals.size > 0) return;
  const impls: Record<(typeof KERNELS)[number], tf.KernelFunc> = {
    Identity: identityKernel as unknown as tf.KernelFunc,
    Slice: sliceKernel as unknown as tf.KernelFunc,
    SplitV: splitVKernel as unknown as tf.KernelFunc,
    Unpack: unpackKernel as unknown as tf.KernelFunc,
    Concat: concatKernel as unknown as tf.KernelFunc,
  };
  for (const name of KERNELS) {
    const orig = tf.getKernel(name, 'wasm');
    if (!orig) throw new Error(`wasm kernel ${name} is not registered: import @tensorflow/tfjs-backend-wasm first`);
    originals.set(name, orig);
  }
  for (const name of KERNELS) {
    const orig = originals.get(name)!;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: withStringFallback(impls[name], orig) });
  }
}

/** Put tfjs's own wasm kernels back. */
export function restoreWasmKernels(): void {
  for (const [name, orig] of originals) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(orig);
  }
  originals.clear();
}

/** Strings live outside the heap: let the original kernels handle them. */
function withStringFallback(fn: tf.KernelFunc, orig: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const first = Object.values(args.inputs)[0];
    if (first && first.dtype === 'string') return orig.kernelFunc(args);
    return fn(args);
  };
}

function identityKernel({ inputs, backend }: KernelArgs): Info {
  const x = inputs.x as Info;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

/**
 * Copy x[begin : begin+size] into a new heap tensor. The output is allocated FIRST: malloc may grow the heap and
 * detach earlier views.
 */
function sliceImpl(backend: BackendWasm, x: Info, begin: number[], size: number[]): Info {
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const src = backend.typedArrayFromHeap(x) as Heap;
  const dst = backend.typedArrayFromHeap(out) as Heap;
  const rank = x.shape.length;
  // Merge trailing dims while the slice covers them fully: run = contiguous elements per copy.
  let run = 1;
  let d = rank - 1;
  while (d >= 0 && begin[d] === 0 && size[d] === x.shape[d]) run *= x.shape[d--];
  if (d < 0) {
    dst.set(src);
    return out;
  }
  run *= size[d]; // dim d is partial: its selected range is contiguous too
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * x.shape[i + 1];
  let base = 0;
  for (let i = 0; i <= d; i++) base += begin[i] * strides[i];
  const outer = total / run;
  if (outer === 1) {
    dst.set(src.subarray(base, base + run));
    return out;
  }
  // Odometer over dims [0, d) of the slice.
  const idx = new Array<number>(d).fill(0);
  let offset = base;
  for (let o = 0, w = 0; o < outer; o++, w += run) {
    // A subarray view per row costs more than copying a few hundred elements one by one.
    if (run >= 1024) dst.set(src.subarray(offset, offset + run), w);
    else for (let k = 0; k < run; k++) dst[w + k] = src[offset + k];
    for (let i = d - 1; i >= 0; i--) {
      idx[i]++;
      offset += strides[i];
      if (idx[i] < size[i]) break;
      offset -= idx[i] * strides[i];
      idx[i] = 0;
    }
  }
  return out;
}

function sliceKernel({ inputs, attrs, backend }: KernelArgs): Info {
  const x = inputs.x as Info;
  const { begin, size } = attrs as { begin: number | number[]; size?: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
  return sliceImpl(backend as BackendWasm, x, b, s);
}

function splitVKernel({ inputs, attrs, backend }: KernelArgs): Info[] {
  const x = inputs.x as Info;
  const { numOrSizeSplits, axis } = attrs as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax) as number[];
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[ax] = s;
    const out = sliceImpl(backend as BackendWasm, x, begin.slice(), size);
    begin[ax] += s;
    return out;
  });
}

function unpackKernel({ inputs, attrs, backend }: KernelArgs): Info[] {
  const value = inputs.value as Info;
  let { axis } = attrs as { axis: number };
  if (axis < 0) axis += value.shape.length;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const size = value.shape.slice();
  size[axis] = 1;
  const outs: Info[] = [];
  for (let i = 0; i < value.shape[axis]; i++) {
    const begin = new Array<number>(value.shape.length).fill(0);
    begin[axis] = i;
    const o = sliceImpl(backend as BackendWasm, value, begin, size);
    outs.push({ dataId: o.dataId, dtype: o.dtype, shape: outShape });
  }
  return outs;
}

/** Concat along any axis: per input, its rows of `run` elements go to column offset `col` of every output row. */
function concatKernel({ inputs, attrs, backend }: KernelArgs): Info {
  const be = backend as BackendWasm;
  const list = Object.values(inputs) as Info[];
  const axis = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, list[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(list.map((t) => t.shape), axis);
  const parts = list.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (parts.length === 1) return identityKernel({ inputs: { x: parts[0] }, backend });
  const out = be.makeOutput(outShape, list[0].dtype);
  const total = tf.util.sizeFromShape(outShape);
  if (total === 0) return out;
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const rowLen = total / outer;
  const dst = be.typedArrayFromHeap(out) as Heap;
  let col = 0;
  for (const t of parts) {
    const src = be.typedArrayFromHeap(t) as Heap;
    const run = src.length / outer;
    if (outer === 1) dst.set(src, col);
    else if (run >= 1024) for (let b = 0; b < outer; b++) dst.set(src.subarray(b * run, (b + 1) * run), b * rowLen + col);
    else {
      for (let b = 0, i = 0; b < outer; b++) {
        const o = b * rowLen + col;
        for (let k = 0; k < run; k++) dst[o + k] = src[i++];
      }
    }
    col += run;
  }
  return out;
}
