/**
 * Writes PyTorch `.pt` files that `torch.load` reads as torch.save would have written them (the zip format of
 * torch ≥ 1.6): `archive/data.pkl`, a protocol-2 pickle of plain data whose tensors are
 * `torch._utils._rebuild_tensor_v2` over persistent-id storages, one `archive/data/<key>` per tensor
 * (contiguous little-endian float32), and `archive/version`. Only the vocabulary the reader (torchFile.ts)
 * accepts is emitted, so studio exports load in both directions without unsafe globals.
 */
import { createZip, type ZipEntry } from '../imageio/zip';

/** A float32 tensor to write, row-major. */
export interface PyTensor {
  readonly kind: 'tensor';
  shape: readonly number[];
  data: Float32Array;
}

/** A Python float even when the value is whole (e.g. weight_decay 0.0, step 4.0). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A tuple (lists are JS arrays). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** collections.OrderedDict, as state_dict() returns. */
export class PyOrderedDict {
  constructor(readonly entries: ReadonlyArray<readonly [string, PyValue]>) {}
}

export type PyValue = null | boolean | number | string | PyFloat | PyTuple | PyOrderedDict | PyTensor | PyValue[] | Map<string | number, PyValue>;

export function tensor(shape: readonly number[], data: Float32Array): PyTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`a tensor of shape [${shape.join(', ')}] needs ${n} values, got ${data.length}`);
  return { kind: 'tensor', shape, data };
}

class PickleWriter {
  private readonly parts: Buffer[] = [];
  readonly storages: Float32Array[] = [];

  private op(...bytes: number[]) {
    this.parts.push(Buffer.from(bytes));
  }

  private str(s: string) {
    const b = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58; // BINUNICODE
    head.writeUInt32LE(b.length, 1);
    this.parts.push(head, b);
  }

  private global(module: string, name: string) {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }

  private int(n: number) {
    if (n >= 0 && n < 256) this.op(0x4b, n); // BININT1
    else if (n >= -(2 ** 31) && n < 2 ** 31) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(n, 1);
      this.parts.push(b);
    } else {
      const b = Buffer.alloc(10);
      b[0] = 0x8a; // LONG1, 8 bytes
      b[1] = 8;
      b.writeBigInt64LE(BigInt(n), 2);
      this.parts.push(b);
    }
  }

  private float(x: number) {
    const b = Buffer.alloc(9);
    b[0] = 0x47; // BINFLOAT, big-endian
    b.writeDoubleBE(x, 1);
    this.parts.push(b);
  }

  private tuple(items: readonly PyValue[]) {
    this.op(0x28); // MARK
    for (const v of items) this.value(v);
    this.op(0x74); // TUPLE
  }

  private tensor(t: PyTensor) {
    const key = String(this.storages.length);
    this.storages.push(t.data);
    const strides: number[] = [];
    let s = 1;
    for (let i = t.shape.length - 1; i >= 0; i--) {
      strides[i] = s;
      s *= t.shape[i];
    }
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(0x28); // MARK: the argument tuple
    this.op(0x28); // MARK: the persistent id ('storage', FloatStorage, key, 'cpu', numel)
    this.str('storage');
    this.global('torch', 'FloatStorage');
    this.str(key);
    this.str('cpu');
    this.int(t.data.length);
    this.op(0x74); // TUPLE
    this.op(0x51); // BINPERSID
    this.int(0); // storage offset
    this.tuple(t.shape as number[]);
    this.tuple(strides);
    this.op(0x89); // requires_grad False
    this.global('collections', 'OrderedDict'); // backward hooks: an empty OrderedDict
    this.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
    this.op(0x74); // TUPLE
    this.op(0x52); // REDUCE
  }

  value(v: PyValue): void {
    if (v === null) this.op(0x4e);
    else if (v === true) this.op(0x88);
    else if (v === false) this.op(0x89);
    else if (typeof v === 'number') Number.isInteger(v) ? this.int(v) : this.float(v);
    else if (typeof v === 'string') this.str(v);
    else if (v instanceof PyFloat) this.float(v.value);
    else if (v instanceof PyTuple) this.tuple(v.items);
    else if (Array.isArray(v)) {
      this.op(0x5d); // EMPTY_LIST
      if (v.length) {
        this.op(0x28);
        for (const x of v) this.value(x);
        this.op(0x65); // APPENDS
      }
    } else if (v instanceof Map || v instanceof PyOrderedDict) {
      if (v instanceof PyOrderedDict) {
        this.global('collections', 'OrderedDict');
        this.op(0x29, 0x52);
      } else this.op(0x7d); // EMPTY_DICT
      const entries = v instanceof Map ? [...v.entries()] : v.entries;
      if (entries.length) {
        this.op(0x28);
        for (const [k, x] of entries) {
          this.value(k);
          this.value(x);
        }
        this.op(0x75); // SETITEMS
      }
    } else if (v.kind === 'tensor') this.tensor(v);
    else throw new Error(`cannot pickle ${String(v)}`);
  }

  finish(): Buffer {
    return Buffer.concat([Buffer.from([0x80, 2]), ...this.parts, Buffer.from([0x2e])]);
  }
}

/** The bytes of a .pt file holding `value`; `archiveName` is the zip's top folder (torch uses the file's stem). */
export function encodeTorchFile(value: PyValue, archiveName = 'archive'): Buffer {
  const w = new PickleWriter();
  w.value(value);
  const entries: ZipEntry[] = [{ name: `${archiveName}/data.pkl`, data: w.finish() }];
  w.storages.forEach((data, key) => {
    entries.push({ name: `${archiveName}/data/${key}`, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
  });
  entries.push({ name: `${archiveName}/version`, data: Buffer.from('3\n') });
  return createZip(entries, { method: 'store' });
}
