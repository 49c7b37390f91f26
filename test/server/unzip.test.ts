/** The tiny zip reader (Electron export, e2e) against the service's zip writer and a deflating writer. */
import { describe, expect, it } from 'vitest';
import { createZip } from '../../src-main/imageio/zip';
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
