/**
 * Reads PyTorch `.pt` files written by `torch.save`: the zip format of torch ≥ 1.6 (`<name>/data.pkl` is a
 * pickle whose tensors point, through persistent ids, at raw little-endian storages `<name>/data/<key>`), and
 * the legacy format before it (pickles and storages in a row).
 * Only what `torch.save(state_dict)` and `torch.save(optimizer.state_dict())` write is accepted: dicts and
 * OrderedDicts, lists, tuples, numbers, strings, and tensors rebuilt by `torch._utils._rebuild_tensor_v2` /
 * `_rebuild_parameter` over typed storages. Any other Python global is refused (see pickle.ts), so a
 * malicious checkpoint cannot run code here.
 *
 * Tensors come back contiguous (row-major) whatever their strides and storage offset in the file; float16
 * and bfloat16 are widened to float32, integers and bools to float64 (exact to 2^53).
 */
import { readFileSync } from 'node:fs';
import { readZip } from '../imageio/unzip';
import { unpickle, unpickleAt, type AllowedGlobal } from './pickle';

export type TorchDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface TorchTensor {
  readonly kind: 'tensor';
  /** The dtype stored in the file. */
  dtype: TorchDtype;
  shape: number[];
  /** Row-major values: float32 for float32/float16/bfloat16, float64 otherwise. */
  data: Float32Array | Float64Array;
}

export function isTorchTensor(v: unknown): v is TorchTensor {
  return typeof v === 'object' && v !== null && (v as TorchTensor).kind === 'tensor';
}

interface StorageType {
  dtype: TorchDtype;
  bytes: number;
}

const STORAGE_TYPES: Record<string, StorageType> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  BFloat16Storage: { dtype: 'bfloat16', bytes: 2 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  LongStorage: { dtype: 'int64', bytes: 8 },
  IntStorage: { dtype: 'int32', bytes: 4 },
  ShortStorage: { dtype: 'int16', bytes: 2 },
  CharStorage: { dtype: 'int8', bytes: 1 },
  ByteStorage: { dtype: 'uint8', bytes: 1 },
  BoolStorage: { dtype: 'bool', bytes: 1 },
};

/** A storage read from the zip, widened once to a JS typed array and shared by every view of it. */
interface Storage {
  dtype: TorchDtype;
  values: Float32Array | Float64Array;
}

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decodeStorage(bytes: Buffer, type: StorageType, numel: number, where: string): Storage {
  if (bytes.length < numel * type.bytes) {
    throw new Error(`${where}: a ${type.dtype} storage of ${numel} elements has only ${bytes.length} bytes (the file is truncated)`);
  }
  const n = numel;
  switch (type.dtype) {
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(4 * i);
      return { dtype: type.dtype, values: out };
    }
    case 'float16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes.readUInt16LE(2 * i));
      return { dtype: type.dtype, values: out };
    }
    case 'bfloat16': {
      const out = new Float32Array(n);
      const word = Buffer.alloc(4);
      for (let i = 0; i < n; i++) {
        word.writeUInt32LE(bytes.readUInt16LE(2 * i) << 16 >>> 0, 0);
        out[i] = word.readFloatLE(0);
      }
      return { dtype: type.dtype, values: out };
    }
    default: {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const at = i * type.bytes;
        out[i] =
          type.dtype === 'float64' ? bytes.readDoubleLE(at)
          : type.dtype === 'int64' ? Number(bytes.readBigInt64LE(at))
          : type.dtype === 'int32' ? bytes.readInt32LE(at)
          : type.dtype === 'int16' ? bytes.readInt16LE(at)
          : type.dtype === 'int8' ? bytes.readInt8(at)
          : bytes[at];
      }
      return { dtype: type.dtype, values: out };
    }
  }
}

/** A strided view of a storage, copied out row-major. */
function materialise(storage: Storage, offset: number, shape: number[], stride: number[], where: string): TorchTensor {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = storage.values instanceof Float32Array ? new Float32Array(numel) : new Float64Array(numel);
  if (numel > 0) {
    let last = offset;
    shape.forEach((d, i) => (last += (d - 1) * stride[i]));
    if (offset < 0 || last >= storage.values.length) {
      throw new Error(`${where}: a tensor of shape [${shape.join(', ')}] reaches element ${last} of a storage with ${storage.values.length}`);
    }
    const index = new Array<number>(shape.length).fill(0);
    let src = offset;
    for (let i = 0; i < numel; i++) {
      out[i] = storage.values[src];
      // Odometer over the dimensions, last one fastest.
      for (let d = shape.length - 1; d >= 0; d--) {
        index[d]++;
        src += stride[d];
        if (index[d] < shape[d]) break;
        src -= shape[d] * stride[d];
        index[d] = 0;
      }
    }
  }
  return { kind: 'tensor', dtype: storage.dtype, shape: [...shape], data: out };
}

function intList(v: unknown, what: string, where: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) throw new Error(`${where}: a tensor's ${what} is not a list of integers`);
  return v as number[];
}

/** Reads a `.pt` file; the value is what torch.load would return, with tensors as TorchTensor and dicts as Maps. */
export function readTorchFile(file: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeTorchFile(bytes, file);
}

/** A storage reference from a persistent id; its values arrive now (zip) or after the main pickle (legacy). */
interface StorageRef {
  type: StorageType;
  key: string;
  numel: number;
  storage: Storage | null;
}

/** The globals a state dict needs, and the tensors whose storage was not there yet when they were rebuilt. */
function stateDictGlobals(file: string) {
  const pending: { tensor: TorchTensor; ref: StorageRef; offset: number; shape: number[]; strides: number[] }[] = [];
  const globals = new Map<string, Omit<AllowedGlobal, 'qualifiedName'> & { storageType?: StorageType }>();
  globals.set('collections.OrderedDict', {
    call: (args) => new Map(args.length && args[0] instanceof Map ? (args[0] as Map<unknown, unknown>) : []),
    // torch.save of a state dict sets OrderedDict._metadata (module versions); it carries no tensor.
    build: (obj) => obj,
  });
  globals.set('torch._utils._rebuild_tensor_v2', {
    call: (args) => {
      const [ref, offset, size, stride] = args;
      if (!ref || typeof ref !== 'object' || !('key' in (ref as object))) throw new Error(`${file}: _rebuild_tensor_v2 without a storage`);
      if (!Number.isInteger(offset)) throw new Error(`${file}: a tensor's storage offset is not an integer`);
      const shape = intList(size, 'size', file);
      const strides = intList(stride, 'stride', file);
      if (strides.length !== shape.length) throw new Error(`${file}: a tensor has ${shape.length} sizes but ${strides.length} strides`);
      const r = ref as StorageRef;
      if (r.storage) return materialise(r.storage, offset as number, shape, strides, file);
      const tensor: TorchTensor = { kind: 'tensor', dtype: r.type.dtype, shape, data: new Float32Array(0) };
      pending.push({ tensor, ref: r, offset: offset as number, shape, strides });
      return tensor;
    },
  });
  globals.set('torch._utils._rebuild_parameter', {
    call: (args) => {
      if (!isTorchTensor(args[0])) throw new Error(`${file}: _rebuild_parameter without a tensor`);
      return args[0];
    },
  });
  for (const [name, storageType] of Object.entries(STORAGE_TYPES)) globals.set(`torch.${name}`, { storageType });
  /** Fills the tensors rebuilt before their storage was read. */
  const resolvePending = () => {
    for (const p of pending) {
      if (!p.ref.storage) throw new Error(`${file}: storage ${p.ref.key} is missing (the file is incomplete)`);
      p.tensor.data = materialise(p.ref.storage, p.offset, p.shape, p.strides, file).data;
    }
  };
  return { globals, resolvePending };
}

/** ('storage', StorageType, key, location, numel[, view_metadata]) → a reference. */
function storageRef(pid: unknown, file: string): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new Error(`${file}: the pickle refers to ${JSON.stringify(pid)}, which is not a tensor storage`);
  }
  const [, type, key, , numel, view] = pid as [string, unknown, unknown, unknown, unknown, unknown];
  const storageType = (type as { storageType?: StorageType })?.storageType;
  if (!storageType || typeof key !== 'string' || !Number.isInteger(numel)) {
    throw new Error(`${file}: a storage reference is malformed (type, key or size)`);
  }
  if (view !== undefined && view !== null) throw new Error(`${file}: storage views of torch < 1.0 are not read; re-save the file with a newer torch`);
  return { type: storageType, key, numel: numel as number, storage: null };
}

const ALLOWED = 'collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.*Storage';

export function decodeTorchFile(bytes: Buffer, file: string): unknown {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) return decodeLegacyTorchFile(bytes, file);
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== 0x04034b50) {
    throw new Error(`${file} is not a PyTorch checkpoint (torch.save writes a zip file; this one starts differently)`);
  }
  let entries;
  try {
    entries = readZip(bytes);
  } catch (e) {
    throw new Error(`${file} is a damaged PyTorch checkpoint (${(e as Error).message}); it may still be being written`);
  }
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const pklName = entries.map((e) => e.name).find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pklName) throw new Error(`${file} is a zip but not a PyTorch checkpoint (it has no <name>/data.pkl)`);
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const byteorder = byName.get(`${prefix}byteorder`)?.toString('latin1').trim();
  if (byteorder && byteorder !== 'little') throw new Error(`${file} was saved on a ${byteorder}-endian machine; only little-endian files are read`);

  const storages = new Map<string, Storage>();
  const { globals, resolvePending } = stateDictGlobals(file);
  const value = unpickle(byName.get(pklName)!, {
    source: file,
    globals,
    persistentLoad: (pid) => {
      const ref = storageRef(pid, file);
      let s = storages.get(ref.key);
      if (!s) {
        const data = byName.get(`${prefix}data/${ref.key}`);
        if (!data) throw new Error(`${file}: storage ${ref.key} is missing from the zip (the file is incomplete)`);
        s = decodeStorage(data, ref.type, ref.numel, file);
        storages.set(ref.key, s);
      }
      ref.storage = s;
      return ref;
    },
    allowedDescription: ALLOWED,
  });
  resolvePending();
  return value;
}

/**
 * The legacy format of torch < 1.6 (and of `_use_new_zipfile_serialization=False`): pickles in a row — magic
 * number, protocol version, system info, the object, the list of storage keys — then each storage as an
 * 8-byte element count and its raw little-endian bytes, in the order of that list.
 */
function decodeLegacyTorchFile(bytes: Buffer, file: string): unknown {
  const plain = { source: file, globals: new Map(), allowedDescription: 'plain data only, before the state dict' };
  const damaged = (e: unknown): never => {
    if (e instanceof Error && e.name === 'UnsafePickleError') throw e;
    throw new Error(`${file} is a damaged PyTorch checkpoint in the legacy format (${(e as Error).message}); it may still be being written`);
  };
  try {
    let at = 0;
    const magic = unpickleAt(bytes, at, plain);
    if (magic.value !== 0x1950a86a20f9469cfc6cn) throw new Error('no PyTorch magic number');
    at = magic.end;
    const protocol = unpickleAt(bytes, at, plain);
    if (protocol.value !== 1001) throw new Error(`protocol version ${String(protocol.value)}, expected 1001`);
    const sysInfo = unpickleAt(bytes, protocol.end, plain);
    const info = sysInfo.value instanceof Map ? sysInfo.value : new Map();
    if (info.get('little_endian') === false) throw new Error('saved on a big-endian machine; only little-endian files are read');

    const refs = new Map<string, StorageRef[]>();
    const { globals, resolvePending } = stateDictGlobals(file);
    const main = unpickleAt(bytes, sysInfo.end, {
      source: file,
      globals,
      persistentLoad: (pid) => {
        const ref = storageRef(pid, file);
        if (!refs.has(ref.key)) refs.set(ref.key, []);
        refs.get(ref.key)!.push(ref);
        return ref;
      },
      allowedDescription: ALLOWED,
    });
    const keys = unpickleAt(bytes, main.end, plain);
    if (!Array.isArray(keys.value)) throw new Error('the storage key list is missing');
    at = keys.end;
    for (const key of keys.value as unknown[]) {
      const list = refs.get(String(key));
      if (at + 8 > bytes.length) throw new Error(`storage ${String(key)} is cut off`);
      const numel = Number(bytes.readBigInt64LE(at));
      at += 8;
      const type = list?.[0]?.type ?? STORAGE_TYPES.FloatStorage;
      const size = numel * type.bytes;
      if (at + size > bytes.length) throw new Error(`storage ${String(key)} is cut off`);
      const storage = decodeStorage(bytes.subarray(at, at + size), type, numel, file);
      at += size;
      for (const ref of list ?? []) ref.storage = storage;
    }
    resolvePending();
    return main.value;
  } catch (e) {
    return damaged(e);
  }
}
