/**
 * Test helpers for the web face: a raw WebSocket client (Node 20 has no global WebSocket) that can also
 * send broken frames, a raw HTTP GET that keeps the path as written (fetch would normalise `..`), a tiny
 * zip writer, and an in-memory fake of the run service.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { deflateRawSync } from 'node:zlib';
import path from 'node:path';
import type { Socket } from 'node:net';
import type {
  JobSummary,
  RunSummary,
  SampleSet,
  StudioEvent,
} from '../../src-shared/protocol';
import type { StudioBackend } from '../../src-main/server/server';
import { encodeFrame, OPCODE } from '../../src-main/server/websocket';
import { listStudyKinds } from '../../src-shared/studies';
import { listPresets } from '../../src-shared/config/presets';
import { DEFAULT_RUN_CONFIG, cloneRunConfig } from '../../src-shared/config/runConfig';
import { validateRunConfig } from '../../src-shared/config/validate';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** GET with the path sent exactly as given. */
export function rawGet(port: number, rawPath: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method: 'GET', headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Frame {
  opcode: number;
  payload: Buffer;
}

/** A test WebSocket client speaking raw frames. */
export class TestSocket {
  readonly frames: Frame[] = [];
  private buffer: Buffer;
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: Socket, head: Buffer = Buffer.alloc(0)) {
    this.buffer = Buffer.from(head);
    socket.on('data', (c: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, c]);
      this.parse();
    });
    if (head.length > 0) queueMicrotask(() => this.parse());
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private parse(): void {
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) return;
      this.frames.push({ opcode: b[0] & 0x0f, payload: Buffer.from(b.subarray(off, off + len)) });
      this.buffer = b.subarray(off + len);
      this.wake();
    }
  }

  sendFrame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; masked?: boolean } = {}): void {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.socket.write(encodeFrame(opcode, data, { fin: opts.fin, mask: opts.masked === false ? undefined : randomBytes(4) }));
  }

  sendText(text: string): void {
    this.sendFrame(OPCODE.text, text);
  }

  /** Waits for the next frame matching `pred` (frames before it stay in `frames`). */
  async waitFrame(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.frames.length; seen++) {
        if (pred(this.frames[seen])) {
          const [f] = this.frames.splice(seen, 1);
          return f;
        }
      }
      if (this.closed) throw new Error('socket closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a JSON text message matching `pred`. */
  async waitJson(pred: (m: Record<string, unknown>) => boolean = () => true, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const f = await this.waitFrame((fr) => {
      if (fr.opcode !== OPCODE.text) return false;
      try {
        return pred(JSON.parse(fr.payload.toString('utf8')) as Record<string, unknown>);
      } catch {
        return false;
      }
    }, timeoutMs);
    return JSON.parse(f.payload.toString('utf8')) as Record<string, unknown>;
  }

  private nextId = 1;
  /** Sends a ClientMessage and waits for its reply. */
  async call(method: string, params: unknown[]): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.sendText(JSON.stringify({ id, method, params }));
    return this.waitJson((m) => m.id === id);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket did not close');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export type UpgradeResult = { ok: true; ws: TestSocket } | { ok: false; status: number; body: string };

/** Opens a WebSocket to `path` (e.g. `/api?token=…`); resolves with the client or the refusal. */
export function connectWs(port: number, wsPath: string, headers: Record<string, string> = {}): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: wsPath,
      headers: {
        Host: `127.0.0.1:${port}`,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket, head) => {
      const ws = new TestSocket(socket as Socket, head);
      resolve({ ok: true, ws });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function mustConnect(port: number, token: string): Promise<TestSocket> {
  const r = await connectWs(port, `/api?token=${token}`);
  if (!r.ok) throw new Error(`upgrade refused: ${r.status} ${r.body}`);
  return r.ws;
}

/** A minimal zip writer (deflated entries) for the fake export. */
export function writeZip(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const comp = deflateRawSync(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(comp.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(comp.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, comp);
    centrals.push(central, name);
    offset += 30 + name.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function notFound(what: string): Error {
  return Object.assign(new Error(`${what} not found`), { code: 'not-found' });
}

/** An in-memory run service: enough state for the face's tests, plus `emit` to push events. */
export class FakeBackend implements StudioBackend {
  readonly handlers = new Set<(e: StudioEvent) => void>();
  readonly runs = new Map<string, RunSummary>();
  readonly calls: { method: string; params: unknown[] }[] = [];
  sets: SampleSet[] = [];

  constructor(readonly filesRoot: string) {}

  emit(e: StudioEvent): void {
    for (const h of this.handlers) h(e);
  }

  subscribe(handler: (e: StudioEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  resolveFile(urlPath: string): string | null {
    if (!urlPath.startsWith('/files/')) return null;
    let rel: string;
    try {
      rel = decodeURIComponent(urlPath.slice('/files/'.length));
    } catch {
      return null;
    }
    const full = path.resolve(this.filesRoot, rel);
    const inside = path.relative(this.filesRoot, full);
    return inside.startsWith('..') || path.isAbsolute(inside) ? null : full;
  }

  async exportSampleSetZip(setId: number): Promise<Buffer> {
    if (setId !== 1) throw notFound(`sample set ${setId}`);
    return writeZip([
      { name: 'manifest.json', data: Buffer.from(JSON.stringify({ set: 1 })) },
      { name: '0000.png', data: Buffer.from('not really a png') },
    ]);
  }

  private run(id: string): RunSummary {
    const r = this.runs.get(id);
    if (!r) throw notFound(`run ${id}`);
    return r;
  }

  async systemInfo() {
    return { version: '0.0.0-test', dataDir: this.filesRoot, backend: 'cpu (test)', face: 'web' as const };
  }
  async backends() {
    return [{ name: 'cpu' as const, available: true, auto: true, detail: 'cpu (test)' }];
  }
  async presets() {
    return listPresets();
  }
  async validateConfig(config: unknown) {
    this.calls.push({ method: 'validateConfig', params: [config] });
    return validateRunConfig(config);
  }
  async listRuns() {
    return [...this.runs.values()];
  }
  async runDetail(runId: string, _points: number) {
    const run = this.run(runId);
    return { run, series: {}, vlbSteps: [], latestVlb: null, gns: [], samplerWeights: null, checkpoints: [], previews: [], evaluations: [], checkpointDamage: null };
  }
  async series() {
    return {};
  }
  async vlbSnapshot() {
    return null;
  }
  async createRun(request: { config: unknown; name?: string; preset?: string; start?: boolean }) {
    const id = `run-${this.runs.size + 1}`;
    const run: RunSummary = {
      id,
      name: request.name ?? id,
      status: request.start ? 'running' : 'queued',
      reason: null,
      backend: null,
      step: 0,
      maxSteps: null,
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      stepsPerSec: null,
      lastLoss: null,
      bestBpd: null,
      lastCheckpointStep: null,
      preset: request.preset ?? null,
      config: cloneRunConfig(DEFAULT_RUN_CONFIG),
    };
    this.runs.set(id, run);
    this.emit({ type: 'run', run });
    return run;
  }
  async startRun(runId: string) {
    return this.run(runId);
  }
  async pauseRun(runId: string) {
    return this.run(runId);
  }
  async resumeRun(runId: string) {
    return this.run(runId);
  }
  async stopRun(runId: string) {
    return this.run(runId);
  }
  async duplicateRun(runId: string) {
    return this.run(runId);
  }
  async deleteRun(runId: string) {
    this.run(runId);
    this.runs.delete(runId);
  }
  private job(runId: string): JobSummary {
    return { id: 1, kind: 'sample', runId, status: 'queued', progress: 0, error: null, createdAt: 0, finishedAt: null, settings: {}, resultId: null };
  }
  async startSampling(settings: { runId: string }) {
    this.run(settings.runId);
    return this.job(settings.runId);
  }
  async startEvaluation(settings: { runId: string }) {
    this.run(settings.runId);
    return { ...this.job(settings.runId), kind: 'eval' as const };
  }
  async startQualityEvaluation(settings: { runId: string }) {
    this.run(settings.runId);
    return { ...this.job(settings.runId), kind: 'quality' as const };
  }
  async startQualitySweep(settings: { runId: string }) {
    this.run(settings.runId);
    return { sweepId: 'sweep-1', jobs: [{ ...this.job(settings.runId), kind: 'quality' as const }] };
  }
  async listQualityResults(runId: string) {
    this.run(runId);
    return [];
  }
  async qualityAvailability(runId: string) {
    this.run(runId);
    return { labelled: true, message: null, diffusionSteps: 50, classifierAccuracy: null };
  }
  async cancelJob(_jobId: number): Promise<JobSummary> {
    throw Object.assign(new Error('no such job'), { code: 'not-found' });
  }
  async listJobs() {
    return [];
  }
  async listSampleSets(filter: { runId?: string }) {
    this.calls.push({ method: 'listSampleSets', params: [filter] });
    return this.sets;
  }
  // The reference interop is tested on the real service (test/interop); the face only forwards it.
  async importReferenceRun(request: { path: string }): Promise<never> {
    this.calls.push({ method: 'importReferenceRun', params: [request] });
    throw Object.assign(new Error(`${request.path}: not a reference run (fake)`), { code: 'bad-request' });
  }
  async followReferenceRun(request: { dir: string }) {
    this.calls.push({ method: 'followReferenceRun', params: [request] });
    return { dir: request.dir, runId: null, following: true, lastMessage: null };
  }
  async stopFollowingReferenceRun(dir: string) {
    return { dir, runId: null, following: false, lastMessage: 'stopped' };
  }
  async listReferenceFollows() {
    return [];
  }
  async exportForReference(request: { runId: string }): Promise<never> {
    this.run(request.runId);
    throw Object.assign(new Error('no checkpoint (fake)'), { code: 'bad-request' });
  }
  async studyKinds() {
    return listStudyKinds();
  }
  async listStudies() {
    return [];
  }
  async createStudy(): Promise<never> {
    throw Object.assign(new Error('studies are not served by the fake backend'), { code: 'bad-request' });
  }
  async studyReport(id: string): Promise<never> {
    throw notFound(`study ${id}`);
  }
  async stopStudy(id: string): Promise<never> {
    throw notFound(`study ${id}`);
  }
  async resumeStudy(id: string): Promise<never> {
    throw notFound(`study ${id}`);
  }
  async exportStudy(id: string): Promise<never> {
    throw notFound(`study ${id}`);
  }
  async deleteStudy(id: string): Promise<never> {
    throw notFound(`study ${id}`);
  }
  async exportStudyZip(id: string): Promise<Buffer> {
    if (id !== 'study-1') throw notFound(`study ${id}`);
    return writeZip([{ name: 'report.md', data: Buffer.from('# study-1\n') }]);
  }
}
