/**
 * A run id names the folder `<data>/runs/<id>`: ids that would name the data folder itself (or anything
 * outside the runs folder) are refused at every door, and deleting a run never removes more than its
 * own folder, even for a row written before the rule existed.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { RUN_ID_MAX_LENGTH, RUN_NAME_MAX_LENGTH, runIdProblem } from '../../src-shared/runId';
import { handleRequest } from '../../src-main/server/validateRequest';
import { startHarness, type Harness } from './serviceHarness';

const tiny = () => getPreset('tiny-test').config;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

describe('the run id rule', () => {
  it('accepts timestamps and plain names, refuses path tricks, hidden and option-like names, and long ids', () => {
    for (const ok of ['20261129-135644', '20261129-135644-2', 'mnist_01', 'v1.2', '_x', 'a'.repeat(RUN_ID_MAX_LENGTH)]) expect(runIdProblem(ok), ok).toBeNull();
    for (const bad of ['..', '.', '', '.hidden', '-rf', 'a/b', 'a\\b', '../x', 'a..b', 'x.', 'a b', 'é', 'a\u0000', 'a'.repeat(RUN_ID_MAX_LENGTH + 1)]) {
      expect(runIdProblem(bad), JSON.stringify(bad)).toMatch(/use|must/);
    }
    expect(runIdProblem(7)).toMatch(/must be a string/);
  });
});

describe('run ids and names at the run service', () => {
  it("createRun with id '..' is refused through the API gate and by the service, and nothing is written", async () => {
    harness = await startHarness();
    const h = harness;
    const viaApi = await handleRequest(h.service, 'createRun', [{ config: tiny(), id: '..', start: true }]);
    expect(viaApi).toMatchObject({ error: { code: 'bad-request' } });
    const message = (viaApi as { error: { message: string } }).error.message;
    expect(message).toMatch(/^createRun: id '\.\.' is not allowed: use letters, digits/);
    // The service is a door too (the Electron face and the CLI call it directly).
    await expect(h.service.createRun({ config: tiny(), id: '..', start: true })).rejects.toMatchObject({ code: 'bad-request', extra: { field: 'id' } });
    await expect(h.service.createRun({ config: tiny(), id: 'a/../../x' })).rejects.toThrow(/id 'a\/\.\.\/\.\.\/x' is not allowed/);
    expect(await h.service.listRuns()).toEqual([]);
    expect(existsSync(path.join(h.dataDir, 'runs'))).toBe(false);
    // A good id still works, and a taken one is named as taken.
    expect((await h.service.createRun({ config: tiny(), id: 'mnist-01' })).id).toBe('mnist-01');
    await expect(h.service.createRun({ config: tiny(), id: 'mnist-01' })).rejects.toThrow(/id 'mnist-01' is taken/);
  });

  it('the store refuses a bad id whoever calls it', async () => {
    harness = await startHarness();
    expect(() => harness!.service.store.createRun({ id: '..', name: 'x', config: tiny() })).toThrow(/run id '\.\.' is not allowed/);
    expect(harness.service.store.getRun('..')).toBeNull();
  });

  it('a 1 MB name is refused naming the field; a name at the bound is kept, and its copy stays within it', async () => {
    harness = await startHarness();
    const h = harness;
    const huge = 'n'.repeat(1 << 20);
    const viaApi = await handleRequest(h.service, 'createRun', [{ config: tiny(), name: huge }]);
    expect((viaApi as { error: { message: string } }).error.message).toBe(`createRun: name is ${1 << 20} characters long: use at most ${RUN_NAME_MAX_LENGTH}`);
    await expect(h.service.createRun({ config: tiny(), name: huge })).rejects.toMatchObject({ extra: { field: 'name' } });
    const longest = await h.service.createRun({ config: tiny(), name: 'm'.repeat(RUN_NAME_MAX_LENGTH) });
    expect(longest.name).toHaveLength(RUN_NAME_MAX_LENGTH);
    const copy = await h.service.duplicateRun(longest.id);
    expect(copy.name).toHaveLength(RUN_NAME_MAX_LENGTH);
    expect(copy.name.endsWith(' (copy)')).toBe(true);
  });

  it("deleting a row whose id is '..' (written before the rule) leaves the data folder intact", async () => {
    harness = await startHarness();
    const h = harness;
    const keep = await h.service.createRun({ config: tiny(), id: 'keep' });
    mkdirSync(path.join(h.dataDir, 'runs', keep.id), { recursive: true });
    writeFileSync(path.join(h.dataDir, 'runs', keep.id, 'config.json'), '{}');
    writeFileSync(path.join(h.dataDir, 'my-notes.txt'), 'not the studio’s');
    // The row an old version let in, written with raw SQL past today's checks.
    h.service.store.db
      .prepare(`INSERT INTO runs (id, name, config, status, created_at, updated_at, step, run_dir) VALUES ('..', 'evil', ?, 'stopped', 1, 1, 0, ?)`)
      .run(JSON.stringify(tiny()), path.join(h.dataDir, 'runs', '..'));
    const before = readdirSync(h.dataDir).sort();

    await expect(h.service.deleteRun('..')).rejects.toThrow(/no files were deleted/);
    expect(readdirSync(h.dataDir).sort()).toEqual(before);
    expect(existsSync(path.join(h.dataDir, 'studio.db'))).toBe(true);
    expect(existsSync(path.join(h.dataDir, 'my-notes.txt'))).toBe(true);
    expect(existsSync(path.join(h.dataDir, 'runs', keep.id, 'config.json'))).toBe(true);
    // The bad row is gone, the database still answers, and the good run is still there.
    expect((await h.service.listRuns()).map((r) => r.id)).toEqual(['keep']);
    // Deleting a good run removes exactly its folder.
    await h.service.deleteRun(keep.id);
    expect(existsSync(path.join(h.dataDir, 'runs', keep.id))).toBe(false);
    expect(existsSync(path.join(h.dataDir, 'runs'))).toBe(true);
    expect(existsSync(path.join(h.dataDir, 'my-notes.txt'))).toBe(true);
  });
});
