/**
 * `iddpm study` as a user runs it: real CLI child processes on a temp data directory. A tiny study killed
 * mid-way (no clean stop) lists as interrupted and `--resume` finishes it, printing the verdicts and the
 * export folder; usage errors name the flag and the fix.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

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
  }, 900_000);
});
