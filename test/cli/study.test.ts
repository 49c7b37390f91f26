/**
 * `iddpm study` as a user runs it: real CLI child processes on a temp data directory. A tiny study killed
 * mid-way (no clean stop) lists as interrupted and `--resume` finishes it, printing the verdicts and the
 * export folder; `--delete` removes it (keeping its runs, or with --with-runs deleting them) and refuses a
 * running one; usage errors name the flag and the fix.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const data = mkdtempSync(path.join(os.tmpdir(), 'iddpm-cli-study-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--data', data], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function until<T>(check: () => T | undefined | null | false, what: string, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('iddpm study', () => {
  /** The study the kill-and-resume test finished (the delete test deletes it). */
  let finished = '';

  it('refuses bad usage with the flag and the fix, before creating anything', () => {
    const unknown = iddpm('study', 'noise');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('NAME: unknown study "noise": the studies are noise-schedule, sampling-steps, importance-sampling');
    const size = iddpm('study', 'noise-schedule', '--size', 'huge');
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('--size must be one of tiny, quick, full');
    const none = iddpm('study');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give the study to run .* e\.g\. iddpm study importance-sampling --size quick/);
    const both = iddpm('study', '--list', '--resume', 'x');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give one of --list, --resume, not several');
    const withRuns = iddpm('study', '--list', '--with-runs');
    expect(withRuns.code).toBe(2);
    expect(withRuns.stderr).toContain('--with-runs goes with --delete STUDY_ID');
    for (const hostile of ['..', '../runs']) {
      const del = iddpm('study', '--delete', hostile, '--with-runs');
      expect(del.code).toBe(2);
      expect(del.stderr).toContain(`--delete '${hostile}' is not allowed: use letters, digits`);
    }
    const resume = iddpm('study', '--resume', 'nope');
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain('holds no studio data');
    expect(existsSync(path.join(data, 'studio.db'))).toBe(false);
    const list = iddpm('study', '--list');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('no studies in');
  });

  it('a study whose process was killed lists as interrupted and --resume finishes it with verdicts and an export', async () => {
    const child = spawn(process.execPath, [bin, 'study', 'importance-sampling', '--size', 'tiny', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise((r) => child.on('exit', r));
    const id = await until(() => /study (importance-sampling-[\d-]+): /.exec(stderr)?.[1], 'the study id');
    // Kill it (no clean stop) once the first run has a checkpoint.
    const firstCheckpoints = path.join(data, 'runs', `${id}-vlb-uniform`, 'checkpoints');
    await until(() => existsSync(firstCheckpoints) && readdirSync(firstCheckpoints).some((f) => f.endsWith('.safetensors')), 'the first checkpoint');
    child.kill('SIGKILL');
    await exited;

    const listed = iddpm('study', '--list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${id}  importance-sampling \\(tiny\\)  interrupted`));

    const resumed = iddpm('study', '--resume', id);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming study ${id}`);
    expect(resumed.stdout).toMatch(/NOT ENOUGH DATA +Figure 6: the importance sampler never left uniform sampling/);
    expect(resumed.stdout).toMatch(/(HOLDS|DOES NOT HOLD) +Figure 7: uniform L_vlb gradient noise scale above L_hybrid at \d of 6 estimates/);
    const folder = path.join(data, 'studies', id, 'export');
    expect(resumed.stdout).toContain(`export: ${folder}`);
    const md = readFileSync(path.join(folder, 'report.md'), 'utf8');
    expect(md).toMatch(/\*\*(holds|does not hold)\*\* \(Figure 7\): uniform L_vlb gradient noise scale above L_hybrid/);

    expect(iddpm('study', '--list').stdout).toMatch(new RegExp(`${id}  importance-sampling \\(tiny\\)  done  100%`));
    const report = iddpm('study', '--report', id);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`export: ${folder}`);
    const again = iddpm('study', '--resume', id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is done: its report is complete/);
    finished = id;
  }, 900_000);

  it('--delete keeps the runs as ordinary runs, --with-runs deletes them, and a running study is refused', () => {
    expect(finished, 'the kill-and-resume test finishes a study first').not.toBe('');
    const listed = iddpm('runs', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const ours = (JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id).filter((id) => id.startsWith(`${finished}-`)).sort();
    expect(ours).toHaveLength(3);
    // A second study over the same runs, written straight into the database: one driven by a live process
    // (this test's), so it is running, and once stopped, one to delete with its runs without training more.
    const store = openStore(path.join(data, 'studio.db'));
    try {
      store.studies.create({ id: 'second', name: 'second', kind: 'importance-sampling', size: 'tiny', runs: ours.map((runId) => ({ key: runId.slice(finished.length + 1), runId })), status: 'training', ownerPid: process.pid });
    } finally {
      store.close();
    }
    const running = iddpm('study', '--delete', 'second', '--with-runs');
    expect(running.code).toBe(1);
    expect(running.stderr).toContain(`study 'second' is running (training): stop it first (the studio process (pid ${process.pid}) that runs it`);

    const kept = iddpm('study', '--delete', finished);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain(`deleted study ${finished} and its folder ${path.join(data, 'studies', finished)}`);
    expect(kept.stdout).toContain(`kept its runs as ordinary runs`);
    expect(existsSync(path.join(data, 'studies', finished))).toBe(false);
    expect(iddpm('study', '--list').stdout).not.toContain(finished);
    for (const id of ours) expect(existsSync(path.join(data, 'runs', id, 'checkpoints'))).toBe(true);
    expect(iddpm('runs').stdout).toContain(ours[0]);
    expect(iddpm('study', '--delete', finished).stderr).toContain(`--delete ${finished}: no such study in ${data}`);

    const stored = openStore(path.join(data, 'studio.db'));
    try {
      stored.studies.update('second', { status: 'stopped', ownerPid: null });
    } finally {
      stored.close();
    }
    const withRuns = iddpm('study', '--delete', 'second', '--with-runs');
    expect(withRuns.code, withRuns.stderr).toBe(0);
    expect(withRuns.stdout).toContain(`deleted its runs: ${ours.join(', ')}`);
    for (const id of ours) expect(existsSync(path.join(data, 'runs', id))).toBe(false);
    expect(JSON.parse(iddpm('runs', '--json').stdout)).toEqual([]);
    expect(existsSync(path.join(data, 'studio.db'))).toBe(true);
  }, 300_000);
});
