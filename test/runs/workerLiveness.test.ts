/**
 * A run the database calls running is trained only while its worker lock names a live process that
 * started when the lock says: stale pids (a crash, then the pid reused by another program) make the run
 * interrupted at start-up, and stale temp files of killed writers are removed at start-up and resume.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { createRunService } from '../../src-main/runs/runService';
import { isProcessAlive, processStartToken, workerLockFile, writeWorkerLock } from '../../src-main/runs/workerLock';
import { openStore } from '../../src-main/store';
import { startHarness, type Harness } from './serviceHarness';

let harness: Harness | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await harness?.cleanup();
  harness = undefined;
});

/** A live process that is no studio worker. */
function bystander(): number {
  const c = spawn('sleep', ['60']);
  children.push(c);
  return c.pid!;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

async function runMarkedRunning(h: Harness, pid: number): Promise<string> {
  const run = await h.service.createRun({ config: getPreset('tiny-test').config });
  await h.service.close();
  const store = openStore(path.join(h.dataDir, 'studio.db'));
  store.setStatus(run.id, 'running');
  store.updateRun(run.id, { workerPid: pid });
  store.close();
  mkdirSync(path.join(h.dataDir, 'runs', run.id, 'checkpoints'), { recursive: true });
  return run.id;
}

describe('worker liveness', () => {
  it('the start token of a process is stable and differs between processes', () => {
    const a = bystander();
    const b = bystander();
    expect(processStartToken(a)).toBe(processStartToken(a));
    expect(processStartToken(a)).not.toBeNull();
    expect(processStartToken(deadPid())).toBeNull();
    expect(isProcessAlive(b)).toBe(true);
  });

  it('a run whose recorded pid now belongs to an unrelated live process becomes interrupted at start-up, and that process is left alone', async () => {
    harness = await startHarness();
    const other = bystander();
    const id = await runMarkedRunning(harness, other);
    const again = await createRunService({ dataDir: harness.dataDir, face: 'cli' });
    try {
      const r = (await again.listRuns()).find((x) => x.id === id)!;
      expect(r.status).toBe('interrupted');
      expect(again.recovered).toEqual([id]);
      expect(isProcessAlive(other)).toBe(true);
    } finally {
      await again.close();
    }
  });

  it('a lock whose pid was reused (same pid, other start time) does not keep the run running', async () => {
    harness = await startHarness();
    const other = bystander();
    const id = await runMarkedRunning(harness, other);
    const folder = path.join(harness.dataDir, 'runs', id);
    // The lock a crashed worker left behind, naming the pid that the bystander got afterwards.
    writeFileSync(workerLockFile(folder), JSON.stringify({ runId: id, pid: other, pidStart: '1', ownerPid: 1, face: 'web', since: 0 }));
    const again = await createRunService({ dataDir: harness.dataDir, face: 'cli' });
    try {
      expect((await again.listRuns()).find((x) => x.id === id)!.status).toBe('interrupted');
    } finally {
      await again.close();
    }
  });

  it('start-up removes temp files of dead writers, and of the training of runs that do not train; a live worker keeps its own', async () => {
    harness = await startHarness();
    const worker = bystander();
    const busy = await runMarkedRunning(harness, worker);
    writeWorkerLock(path.join(harness.dataDir, 'runs', busy), { runId: busy, pid: worker, ownerPid: worker, face: 'cli' });
    const idle = (await openAndCreate(harness.dataDir)).id;
    const dead = deadPid();
    const live = bystander();
    const f = (run: string, ...parts: string[]) => path.join(harness!.dataDir, 'runs', run, ...parts);
    mkdirSync(f(idle, 'checkpoints'), { recursive: true });
    mkdirSync(f(idle, 'samples', 'set-00001'), { recursive: true });
    const planted = {
      busyLive: f(busy, 'checkpoints', `.step-00000020.safetensors.${worker}.tmp`),
      busyDead: f(busy, 'checkpoints', `.step-00000010.safetensors.${dead}.tmp`),
      idleDead: f(idle, 'checkpoints', `.step-00000010.safetensors.${dead}.tmp`),
      idleLivePid: f(idle, 'checkpoints', `.step-00000020.safetensors.${live}.tmp`),
      idleConfig: f(idle, `.config.json.${dead}.tmp`),
      sampleLive: f(idle, 'samples', 'set-00001', `.grid.png.${live}.tmp`),
    };
    for (const file of Object.values(planted)) writeFileSync(file, Buffer.alloc(1024));
    const again = await createRunService({ dataDir: harness.dataDir, face: 'cli' });
    try {
      expect((await again.listRuns()).find((x) => x.id === busy)!.status).toBe('running');
      const left = Object.fromEntries(Object.entries(planted).map(([k, file]) => [k, existsSync(file)]));
      expect(left).toEqual({ busyLive: true, busyDead: false, idleDead: false, idleLivePid: false, idleConfig: false, sampleLive: true });
    } finally {
      await again.close();
    }
  });

  it('resume right after its studio process was killed waits for the orphaned worker to exit, then resumes', async () => {
    harness = await startHarness();
    // The worker of a killed studio process: alive for a moment more, as a real one finishing its step.
    const orphan = spawn('sleep', ['2']);
    children.push(orphan);
    const orphanExited = new Promise((r) => orphan.on('exit', r));
    const id = await runMarkedRunning(harness, orphan.pid!);
    writeWorkerLock(path.join(harness.dataDir, 'runs', id), { runId: id, pid: orphan.pid!, ownerPid: deadPid(), face: 'cli' });
    const again = await createRunService({ dataDir: harness.dataDir, face: 'cli' });
    try {
      expect((await again.listRuns()).find((x) => x.id === id)!.status).toBe('running');
      // Before: refused at once with "being trained by another studio process", though its owner was dead.
      const resumed = await again.resumeRun(id);
      expect(isProcessAlive(orphan.pid!)).toBe(false);
      await orphanExited;
      expect(['queued', 'running']).toContain(resumed.status);
    } finally {
      await again.close();
    }
  });

  it('another studio process on the same data: resume is refused naming the owner, and stop reaches the owner’s worker', async () => {
    harness = await startHarness();
    const h = harness;
    const base = getPreset('tiny-test').config;
    const config = { ...base, training: { ...base.training, maxSteps: 100_000 }, intervals: { ...base.intervals, checkpointEvery: 0, evalEvery: 0, previewEvery: 0, gnsEvery: 0 } };
    const run = await h.service.createRun({ config, start: true });
    await h.waitFor(() => h.events.some((e) => e.type === 'metrics' && e.runId === run.id), 'a first step');
    const web = await createRunService({ dataDir: h.dataDir, face: 'web' });
    try {
      expect((await web.listRuns()).find((r) => r.id === run.id)!.status).toBe('running');
      const db = openStore(path.join(h.dataDir, 'studio.db'));
      const workerPid = db.getRun(run.id)!.workerPid;
      db.close();
      await expect(web.resumeRun(run.id)).rejects.toThrow(`run '${run.id}' is being trained by another studio process (an iddpm command, process ${process.pid}, worker pid ${workerPid})`);
      await web.stopRun(run.id);
      const end = await h.waitFor(() => {
        const e = h.events.filter((x) => x.type === 'run' && x.run.id === run.id).at(-1);
        return e?.type === 'run' && e.run.status !== 'running' && e.run.status !== 'queued' ? e.run : undefined;
      }, 'the owner to record the stop');
      expect(end.status).toBe('stopped');
      // The owner releases the lock when its worker has exited.
      await h.waitFor(() => !existsSync(workerLockFile(path.join(h.dataDir, 'runs', run.id))), 'the worker lock to be released');
    } finally {
      await web.close();
    }
  });

  it('a run that another process marks running with a pid that is no worker of it reads interrupted in a running service', async () => {
    harness = await startHarness();
    const run = await harness.service.createRun({ config: getPreset('tiny-test').config });
    const store = openStore(path.join(harness.dataDir, 'studio.db'));
    store.setStatus(run.id, 'running');
    store.updateRun(run.id, { workerPid: bystander() });
    const seen = (await harness.service.listRuns()).find((r) => r.id === run.id)!;
    expect(seen.status).toBe('interrupted');
    expect(seen.reason).toMatch(/is gone/);
    expect(store.getRun(run.id)).toMatchObject({ status: 'interrupted', workerPid: null });
    store.close();
  });

  it('resume removes the temp files of the run’s checkpoints, whatever their pid, before its worker starts', async () => {
    harness = await startHarness();
    const run = await harness.service.createRun({ config: { ...getPreset('tiny-test').config, training: { ...getPreset('tiny-test').config.training, maxSteps: 1 } } });
    const folder = path.join(harness.dataDir, 'runs', run.id);
    mkdirSync(path.join(folder, 'checkpoints'), { recursive: true });
    mkdirSync(path.join(folder, 'samples', 'set-00001'), { recursive: true });
    const live = bystander();
    const checkpointTemp = path.join(folder, 'checkpoints', `.step-00000005.safetensors.${live}.tmp`);
    const sampleTemp = path.join(folder, 'samples', 'set-00001', `.grid.png.${live}.tmp`);
    writeFileSync(checkpointTemp, Buffer.alloc(1024));
    writeFileSync(sampleTemp, Buffer.alloc(1024));
    await harness.service.resumeRun(run.id);
    expect(existsSync(checkpointTemp)).toBe(false);
    // A sampling job of another process may be writing this one: its writer is alive.
    expect(existsSync(sampleTemp)).toBe(true);
  });
});

async function openAndCreate(dataDir: string) {
  const store = openStore(path.join(dataDir, 'studio.db'));
  try {
    return store.createRun({ id: 'idle-run', name: 'idle', config: getPreset('tiny-test').config, status: 'stopped', runDir: path.join(dataDir, 'runs', 'idle-run') });
  } finally {
    store.close();
  }
}
