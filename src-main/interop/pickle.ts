/**
 * A restricted reader for Python pickles (protocols 2–5, the binary opcodes). Python's own unpickler imports
 * and calls whatever a file names, so opening an untrusted pickle can run any code. This one only builds
 * plain data (None, bools, ints, floats, strings, bytes, lists, tuples as arrays, dicts as Maps) and
 * resolves a global only when the caller lists it in `globals`; any other global, and the opcodes that
 * instantiate classes (INST, OBJ, NEWOBJ, EXT…), are refused before anything is called. So a refused file
 * never executes anything: this reader has no way to reach Python or the shell at all, and the allow-list
 * only maps names onto the caller's own TypeScript functions.
 */

/** A global the caller allows, e.g. `collections.OrderedDict`: called by REDUCE with the argument tuple. */
export interface AllowedGlobal {
  /** `module.name`, for messages. */
  readonly qualifiedName: string;
  /** REDUCE on it; absent when the global is only a marker (e.g. a storage type inside a persistent id). */
  readonly call?: (args: unknown[]) => unknown;
  /** BUILD on an object this global made (e.g. OrderedDict's `_metadata` attribute); absent = refused. */
  readonly build?: (obj: unknown, state: unknown) => unknown;
}

export interface UnpickleOptions {
  /** Where the bytes came from, for messages (a file path). */
  source: string;
  /** Allowed globals by `module.name`. */
  globals: ReadonlyMap<string, Omit<AllowedGlobal, 'qualifiedName'>>;
  /** BINPERSID: resolves a persistent id (PyTorch: a storage in the zip). Absent = persistent ids refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Human description of what is allowed, appended to the refusal message. */
  allowedDescription?: string;
}

/** The file asks for something this reader will not do (an unknown global or an object-making opcode). */
export class UnsafePickleError extends Error {
  constructor(
    message: string,
    readonly source: string,
    /** The refused global (`posix.system`) or opcode name. */
    readonly refused: string,
  ) {
    super(message);
    this.name = 'UnsafePickleError';
  }
}

const MARK = Symbol('mark');

/** Objects made by an allowed global remember it, so BUILD knows whom to ask. */
const MADE_BY = new WeakMap<object, Omit<AllowedGlobal, 'qualifiedName'> & { qualifiedName: string }>();

const REFUSED_OPCODES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x50: 'PERSID (text)',
};

export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): unknown {
  return unpickleAt(bytes, 0, opts).value;
}

/**
 * One pickle starting at `offset`; returns its value and the offset after its STOP, for files that hold
 * several pickles in a row (PyTorch's legacy format).
 */
export function unpickleAt(bytes: Uint8Array, offset: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const where = opts.source;
  let pos = offset;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (what: string): never => {
    throw new Error(`${where}: cannot read the pickle at byte ${pos}: ${what} (the file may be truncated or not a PyTorch checkpoint)`);
  };
  const need = (n: number) => {
    if (pos + n > buf.length) fail(`needs ${n} more bytes, the data ends`);
  };
  const u8 = () => (need(1), buf[pos++]);
  const u16 = () => (need(2), (pos += 2), buf.readUInt16LE(pos - 2));
  const u32 = () => (need(4), (pos += 4), buf.readUInt32LE(pos - 4));
  const i32 = () => (need(4), (pos += 4), buf.readInt32LE(pos - 4));
  const take = (n: number) => {
    need(n);
    pos += n;
    return buf.subarray(pos - n, pos);
  };
  const line = () => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('a text argument has no end of line');
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('the stack is empty');
    const v = stack.pop();
    if (v === MARK) fail('a MARK where a value was expected');
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('the stack is empty');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    if (metastack.length === 0) fail('no MARK to pop to');
    stack = metastack.pop()!;
    return items;
  };
  const resolveGlobal = (module: string, name: string): unknown => {
    const qualifiedName = `${module}.${name}`;
    const allowed = opts.globals.get(qualifiedName);
    if (!allowed) {
      throw new UnsafePickleError(
        `${where} was refused: its pickle asks for the Python global ${qualifiedName}, which a saved state dict never needs ` +
          `(loading it with torch.load could run code). Nothing was executed.${opts.allowedDescription ? ` Allowed: ${opts.allowedDescription}.` : ''}`,
        where,
        qualifiedName,
      );
    }
    const ref: AllowedGlobal = { ...allowed, qualifiedName };
    globalRefs.add(ref);
    return ref;
  };
  const globalRefs = new WeakSet<object>();
  const isGlobal = (v: unknown): v is AllowedGlobal => typeof v === 'object' && v !== null && globalRefs.has(v);
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of values');
    for (let i = 0; i < items.length; i += 2) (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const append = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list)) fail('APPEND(S) on something that is not a list');
    (list as unknown[]).push(...items);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0) popMark();
        else stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? u8() : u32();
        const b = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(buf.readDoubleBE(pos));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(take(u32()).toString('utf8'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(take(u8()).toString('utf8'));
        break;
      case 0x8d: // BINUNICODE8
        need(8);
        pos += 8;
        stack.push(take(Number(buf.readBigUInt64LE(pos - 8))).toString('utf8'));
        break;
      case 0x55: // SHORT_BINSTRING (protocol ≤ 2 str)
        stack.push(take(u8()).toString('latin1'));
        break;
      case 0x54: // BINSTRING
        stack.push(take(u32()).toString('latin1'));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Uint8Array.from(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(Uint8Array.from(take(u32())));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x64: {
        // DICT
        const d = new Map();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x6c: // LIST
      case 0x74: {
        // TUPLE (popMark replaces `stack`, so take the items before pushing)
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`memo entry ${key} was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!isGlobal(fn) || !fn.call) {
          throw new UnsafePickleError(
            `${where} was refused: its pickle calls ${isGlobal(fn) ? fn.qualifiedName : 'something that is not an allowed function'}. Nothing was executed.`,
            where,
            isGlobal(fn) ? fn.qualifiedName : 'REDUCE',
          );
        }
        if (!Array.isArray(args)) fail(`${fn.qualifiedName} called with arguments that are not a tuple`);
        const made = fn.call(args as unknown[]);
        if (typeof made === 'object' && made !== null) MADE_BY.set(made, fn);
        stack.push(made);
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        const maker = typeof obj === 'object' && obj !== null ? MADE_BY.get(obj) : undefined;
        if (!maker?.build) {
          throw new UnsafePickleError(
            `${where} was refused: its pickle sets the state of ${maker ? `a ${maker.qualifiedName}` : 'an object'}, which a saved state dict never does. Nothing was executed.`,
            where,
            'BUILD',
          );
        }
        stack[stack.length - 1] = maker.build(obj, state);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('a persistent id, but this file kind has none');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      default: {
        const refused = REFUSED_OPCODES[op];
        if (refused) {
          throw new UnsafePickleError(
            `${where} was refused: its pickle uses the ${refused} opcode, which creates arbitrary Python objects. Nothing was executed.`,
            where,
            refused,
          );
        }
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} ('${String.fromCharCode(op)}')`);
      }
    }
  }
}
