/**
 * A flat float32 vector split into consecutive pieces of given shapes, and its gradient, as block copies on the
 * backend's own memory (TypedArray.set, i.e. memcpy). The trainer splits its million-value parameter vector into
 * the network's weights on every step, and gathers their gradients back: tfjs's SplitV and Concat kernels take
 * several milliseconds each for it on wasm, plain copies a fraction of that. The results are the same bits.
 *
 * Two kernels registered for the 'wasm' and 'cpu' backends (other backends keep tf.split): IddpmSplitFlat (one
 * input, one output per piece, differentiable) and IddpmGatherFlat (its gradient: the pieces back into one vector).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const SPLIT = 'IddpmSplitFlat';
const GATHER = 'IddpmGatherFlat';
const BACKENDS = ['wasm', 'cpu'] as const;

type Attrs = { sizes: number[]; dims: number[]; ranks: number[] };
type WasmData = { memoryOffset: number | null };
type CpuBackend = { data: { get(id: object): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo };

function shapesOf({ dims, ranks }: Attrs): number[][] {
  let at = 0;
  return ranks.map((r) => {
    const s = dims.slice(at, at + r);
    at += r;
    return s;
  });
}

/** The float32 values of `t` on `backend`, without a copy where the backend allows. */
function valuesOf(backend: tf.KernelBackend, t: tf.TensorInfo): Float32Array {
  if (tf.getBackend() === 'wasm') {
    const be = backend as unknown as BackendWasm;
    const d = (be as unknown as { dataIdMap: { get(id: object): WasmData | undefined } }).dataIdMap.get(t.dataId);
    if (d && d.memoryOffset != null && tf.util.sizeFromShape(t.shape) > 0) return be.typedArrayFromHeap(t) as Float32Array;
    return be.readSync(t.dataId) as Float32Array;
  }
  return (backend as unknown as CpuBackend).data.get(t.dataId).values;
}

/**
 * New float32 outputs of `shapes`, filled by `fill(outputs)` (views valid only during the call). `fill` must take
 * its views of the inputs itself: on wasm, allocating the outputs may grow the heap and detach earlier views.
 */
function outputs(backend: tf.KernelBackend, shapes: number[][], fill: (outs: Float32Array[]) => void): tf.TensorInfo[] {
  if (tf.getBackend() === 'wasm') {
    const be = backend as unknown as BackendWasm;
    const infos = shapes.map((s) => be.makeOutput(s, 'float32'));
    fill(infos.map((i) => (tf.util.sizeFromShape(i.shape) > 0 ? (be.typedArrayFromHeap(i) as Float32Array) : new Float32Array(0))));
    return infos;
  }
  const arrays = shapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
  fill(arrays);
  const cpu = backend as unknown as CpuBackend;
  return arrays.map((a, i) => cpu.makeTensorInfo(shapes[i], 'float32', a));
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  for (const backendName of BACKENDS) {
    if (!tf.getKernel(SPLIT, backendName)) {
      tf.registerKernel({
        kernelName: SPLIT,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) => {
          const a = attrs as unknown as Attrs;
          const x = inputs.x as tf.TensorInfo;
          return outputs(backend as tf.KernelBackend, shapesOf(a), (outs) => {
            const src = valuesOf(backend as tf.KernelBackend, x);
            let at = 0;
            outs.forEach((o, i) => {
              o.set(src.subarray(at, at + a.sizes[i]));
              at += a.sizes[i];
            });
          });
        },
      });
    }
    if (!tf.getKernel(GATHER, backendName)) {
      tf.registerKernel({
        kernelName: GATHER,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) => {
          const a = attrs as unknown as { total: number };
          const parts = Object.keys(inputs)
            .sort((p, q) => Number(p) - Number(q))
            .map((k) => inputs[k] as tf.TensorInfo);
          return outputs(backend as tf.KernelBackend, [[a.total]], ([out]) => {
            let at = 0;
            for (const p of parts) {
              const v = valuesOf(backend as tf.KernelBackend, p);
              out.set(v, at);
              at += v.length;
            }
          })[0];
        },
      });
    }
  }
  tf.registerGradient({
    kernelName: SPLIT,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], _saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const dys = Array.isArray(dy) ? dy : [dy];
      const sizes = (attrs as unknown as Attrs).sizes;
      const total = sizes.reduce((s, n) => s + n, 0);
      return { x: () => tf.engine().runKernel(GATHER, { ...dys } as unknown as tf.NamedTensorMap, { total } as unknown as tf.NamedAttrMap) as tf.Tensor };
    },
  });
}

/** Whether splitFlat runs as copies on the current backend (else the caller should use tf.split). */
export function flatSplitSupported(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

/**
 * `flat` (float32, 1-D) cut into consecutive pieces of `shapes` (their sizes must add up to its length).
 * Differentiable. Only on the backends of flatSplitSupported().
 */
export function splitFlat(flat: tf.Tensor1D, shapes: number[][]): tf.Tensor[] {
  if (!flatSplitSupported()) throw new Error(`splitFlat runs on the wasm and cpu backends, not ${tf.getBackend()}`);
  if (flat.dtype !== 'float32') throw new Error(`splitFlat takes a float32 vector, got ${flat.dtype}`);
  const sizes = shapes.map((s) => tf.util.sizeFromShape(s));
  const total = sizes.reduce((s, n) => s + n, 0);
  if (flat.rank !== 1 || flat.size !== total) {
    throw new Error(`the flat vector has shape [${flat.shape}]; the pieces need [${total}]`);
  }
  register();
  const attrs: Attrs = { sizes, dims: shapes.flat(), ranks: shapes.map((s) => s.length) };
  return tf.engine().runKernel(SPLIT, { x: flat }, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
}
