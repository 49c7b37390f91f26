/**
 * The .pt reader against files written by PyTorch itself (test/fixtures/reference, made by make_fixtures.py
 * with the reference code and Debian's python3-torch), and the restricted unpickler against hostile files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createZip } from '../../src-main/imageio/zip';
import { UnsafePickleError, unpickle } from '../../src-main/interop/pickle';
import { decodeTorchFile, isTorchTensor, readTorchFile, type TorchTensor } from '../../src-main/interop/torchFile';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'reference');
const LOGDIR = path.join(FIXTURES, 'logdir');
/** The command inside malicious.pt touches this file (see make_fixtures.py). */
const MALICIOUS_MARKER = '/tmp/iddpm-malicious-pickle-ran';

const tmp = mkdtempSync(path.join(tmpdir(), 'iddpm-torchfile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('reading torch.save files', () => {
  it('reads the reference model checkpoint as an ordered state dict of float32 tensors', () => {
    const sd = readTorchFile(path.join(LOGDIR, 'model000004.pt')) as Map<string, TorchTensor>;
    expect(sd).toBeInstanceOf(Map);
    const keys = [...sd.keys()];
    // named_parameters order, which the optimizer's parameter indices follow.
    expect(keys[0]).toBe('time_embed.0.weight');
    expect(keys.at(-1)).toBe('out.2.bias');
    expect(sd.get('time_embed.0.weight')!.shape).toEqual([128, 32]);
    expect(sd.get('input_blocks.0.0.weight')!.shape).toEqual([32, 3, 3, 3]);
    expect(sd.get('out.2.weight')!.shape).toEqual([6, 32, 3, 3]);
    let total = 0;
    for (const t of sd.values()) {
      expect(t.dtype).toBe('float32');
      expect(t.data).toBeInstanceOf(Float32Array);
      expect(t.data.every(Number.isFinite)).toBe(true);
      total += t.data.length;
    }
    expect(total).toBe(197702); // the reference UNetModel's parameter count for this config
    // GroupNorm weights start at 1 and moved only 4 AdamW steps of lr 1e-3.
    const gn = sd.get('input_blocks.1.0.in_layers.0.weight')!.data;
    expect(Math.max(...Array.from(gn, (x) => Math.abs(x - 1)))).toBeLessThan(0.01);
  });

  it('reads float16, float64, int64, transposed and offset views as PyTorch holds them', () => {
    const sd = readTorchFile(path.join(FIXTURES, 'dtypes.pt')) as Map<string, unknown>;
    const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'dtypes.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    for (const [name, e] of Object.entries(expected)) {
      const t = sd.get(name);
      expect(isTorchTensor(t), name).toBe(true);
      const tensor = t as TorchTensor;
      expect(tensor.dtype, name).toBe(e.dtype);
      expect(tensor.shape, name).toEqual(e.shape);
      expect(Array.from(tensor.data), name).toEqual(e.values.map((v) => (tensor.data instanceof Float32Array ? Math.fround(v) : v)));
    }
    const nested = sd.get('nested') as Map<string, unknown>;
    expect(nested.get('list')).toEqual([1, 2.5, 'three', null, true]);
    const tuple = nested.get('tuple') as unknown[];
    expect(Array.from((tuple[0] as TorchTensor).data)).toEqual([1, 1]);
    expect(tuple[1]).toBe(7);
  });

  it("reads torch's legacy (pre-1.6) format too", () => {
    const legacy = readTorchFile(path.join(FIXTURES, 'legacy.pt')) as Map<string, unknown>;
    const zip = readTorchFile(path.join(FIXTURES, 'dtypes.pt')) as Map<string, unknown>;
    const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'dtypes.json'), 'utf8')) as Record<string, unknown>;
    for (const name of Object.keys(expected)) {
      const a = legacy.get(name) as TorchTensor;
      const b = zip.get(name) as TorchTensor;
      expect([a.dtype, a.shape], name).toEqual([b.dtype, b.shape]);
      expect(Array.from(a.data), name).toEqual(Array.from(b.data));
    }
    expect((legacy.get('nested') as Map<string, unknown>).get('list')).toEqual([1, 2.5, 'three', null, true]);
  });

  it('reads the AdamW state keyed by parameter index, with its param_groups', () => {
    const opt = readTorchFile(path.join(LOGDIR, 'opt000004.pt')) as Map<string, unknown>;
    const state = opt.get('state') as Map<number, Map<string, unknown>>;
    const groups = opt.get('param_groups') as Map<string, unknown>[];
    const model = readTorchFile(path.join(LOGDIR, 'model000004.pt')) as Map<string, TorchTensor>;
    expect(state.size).toBe(model.size);
    expect(groups).toHaveLength(1);
    expect(groups[0].get('lr')).toBe(1e-3 * (1 - 3 / 4)); // lr_anneal_steps 4: the last step ran at 1/4 of lr
    expect(groups[0].get('betas')).toEqual([0.9, 0.999]);
    expect(groups[0].get('params')).toEqual([...Array(model.size).keys()]);
    const first = state.get(0)!;
    const step = first.get('step') as TorchTensor;
    expect(Array.from(step.data)).toEqual([4]);
    expect((first.get('exp_avg') as TorchTensor).shape).toEqual(model.get('time_embed.0.weight')!.shape);
    expect((first.get('exp_avg_sq') as TorchTensor).data.every((v) => v >= 0)).toBe(true);
  });
});

describe('refusing what a state dict never holds', () => {
  it('refuses the malicious checkpoint (os.system) by name, and its command never runs', () => {
    rmSync(MALICIOUS_MARKER, { force: true });
    const file = path.join(FIXTURES, 'malicious.pt');
    let err: unknown;
    try {
      readTorchFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsafePickleError);
    expect((err as UnsafePickleError).refused).toBe('posix.system');
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('posix.system');
    expect((err as Error).message).toContain('Nothing was executed');
    expect(existsSync(MALICIOUS_MARKER)).toBe(false);
  });

  it('refuses the same payload in the legacy format', () => {
    rmSync(MALICIOUS_MARKER, { force: true });
    expect(() => readTorchFile(path.join(FIXTURES, 'malicious-legacy.pt'))).toThrow(/malicious-legacy\.pt was refused: .*posix\.system.*Nothing was executed/);
    expect(existsSync(MALICIOUS_MARKER)).toBe(false);
  });

  /** A protocol-4 style pickle: PROTO 4, SHORT_BINUNICODE module/name, STACK_GLOBAL, then a call. */
  function stackGlobalCall(module: string, name: string, arg: string): Buffer {
    const s = (x: string) => Buffer.concat([Buffer.from([0x8c, Buffer.byteLength(x)]), Buffer.from(x)]);
    return Buffer.concat([Buffer.from([0x80, 4]), s(module), s(name), Buffer.from([0x93]), s(arg), Buffer.from([0x85, 0x52, 0x2e])]);
  }

  it('refuses builtins.eval through STACK_GLOBAL inside a torch zip', () => {
    const zip = createZip([{ name: 'archive/data.pkl', data: stackGlobalCall('builtins', 'eval', '__import__("os").system("true")') }]);
    const file = path.join(tmp, 'eval.pt');
    writeFileSync(file, zip);
    expect(() => readTorchFile(file)).toThrow(/refused.*builtins\.eval/);
  });

  it('refuses object-making opcodes and BUILD on anything but an OrderedDict', () => {
    const opts = { source: 'x.pkl', globals: new Map([['collections.OrderedDict', { call: () => new Map(), build: (o: unknown) => o }]]) };
    // INST 'os\nsystem\n' with a MARKed argument
    const inst = Buffer.concat([Buffer.from('(', 'latin1'), Buffer.from([0x8c, 4]), Buffer.from('true'), Buffer.from('ios\nsystem\n.', 'latin1')]);
    expect(() => unpickle(inst, opts)).toThrow(/INST opcode/);
    // BUILD on a plain list
    const build = Buffer.from([0x80, 2, 0x5d, 0x7d, 0x62, 0x2e]);
    expect(() => unpickle(build, opts)).toThrow(UnsafePickleError);
    // REDUCE on a string (not an allowed callable)
    const reduce = Buffer.from([0x80, 2, 0x8c, 1, 0x61, 0x29, 0x52, 0x2e]);
    expect(() => unpickle(reduce, opts)).toThrow(/refused/);
  });

  it('names a truncated download (zip or legacy) instead of crashing', () => {
    const whole = readFileSync(path.join(LOGDIR, 'model000004.pt'));
    expect(() => decodeTorchFile(whole.subarray(0, whole.length / 2), 'half.pt')).toThrow(/half\.pt is a damaged PyTorch checkpoint/);
    expect(() => decodeTorchFile(Buffer.from([0x80, 2, 0x8a, 0x0a]), 'old.pt')).toThrow(/old\.pt is a damaged PyTorch checkpoint in the legacy format/);
    const legacy = readFileSync(path.join(FIXTURES, 'legacy.pt'));
    expect(() => decodeTorchFile(legacy.subarray(0, legacy.length - 10), 'cut.pt')).toThrow(/cut\.pt is a damaged .*storage .* is cut off/);
    expect(() => decodeTorchFile(Buffer.from('hello'), 'text.pt')).toThrow(/not a PyTorch checkpoint/);
  });
});
