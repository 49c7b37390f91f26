/** The tiny zip reader (Electron export, e2e) against the service's zip writer and a deflating writer. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createZip, dosDateTime } from '../../src-main/imageio/zip';
import { isSafeEntryName, readZip } from '../../src-main/imageio/unzip';
import { writeZip } from './helpers';

describe('readZip', () => {
  const entries = [
    { name: 'manifest.json', data: Buffer.from('{"a":1}\n') },
    { name: 'sample-0000.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]) },
    { name: 'empty.txt', data: Buffer.alloc(0) },
    { name: 'big.bin', data: Buffer.alloc(200_000, 7) },
  ];

  it('reads what the run service writes', () => {
    const back = readZip(createZip(entries));
    expect(back.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    back.forEach((e, i) => expect(e.data.equals(entries[i].data)).toBe(true));
  });

  it('reads deflated entries', () => {
    const back = readZip(writeZip(entries));
    back.forEach((e, i) => expect(e.data.equals(entries[i].data)).toBe(true));
  });

  it('refuses what is not a zip', () => {
    expect(() => readZip(Buffer.from('not a zip at all, just some text here'))).toThrow(/not a zip/);
  });

  it('tells safe entry names from escaping ones', () => {
    expect(isSafeEntryName('sample-0000.png')).toBe(true);
    expect(isSafeEntryName('sub/manifest.json')).toBe(true);
    for (const bad of ['../x.png', '/etc/passwd', 'a/../../b', 'C:\\x', 'a\\b', '', 'a//b', './x']) expect(isSafeEntryName(bad), bad).toBe(false);
  });
});

describe('createZip dates its entries (issue 13: they read 1980-00-00)', () => {
  it('writes the given local date and time, as an independent zip reader (Python zipfile) sees it', () => {
    const when = new Date(2026, 10, 29, 14, 7, 36); // local time, as zip tools show it
    const zip = createZip([{ name: 'a.txt', data: Buffer.from('a') }, { name: 'b.txt', data: Buffer.from('b') }], { modified: when });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-zipdate-'));
    try {
      const file = path.join(dir, 'x.zip');
      writeFileSync(file, zip);
      const py = spawnSync('python3', ['-c', 'import sys, zipfile, json; print(json.dumps([list(i.date_time) for i in zipfile.ZipFile(sys.argv[1]).infolist()]))', file], { encoding: 'utf8' });
      expect(py.status, py.stderr).toBe(0);
      expect(JSON.parse(py.stdout)).toEqual([
        [2026, 11, 29, 14, 7, 36],
        [2026, 11, 29, 14, 7, 36],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dates entries now by default, never the zero date', () => {
    const zip = createZip([{ name: 'a.txt', data: Buffer.from('a') }]);
    const date = zip.readUInt16LE(12); // the local header's date
    expect(date >> 9).toBe(new Date().getFullYear() - 1980);
    expect((date >> 5) & 15).toBeGreaterThanOrEqual(1); // a month, not 0
    expect(dosDateTime(new Date(1970, 0, 1))).toEqual({ time: 0, date: (1 << 5) | 1 }); // before 1980: 1980-01-01
  });
});
