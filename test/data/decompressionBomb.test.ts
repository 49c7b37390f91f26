/**
 * Issue 13, item 11: a decompression bomb (a ~1 MB PNG of 31000² pixels, 6.5 GB once decoded) is refused
 * from its header, before decoding, with a message naming the file. The bomb is a real PNG built here:
 * IHDR 31000×31000 grey, one IDAT with the zlib stream of 31000 all-zero rows (zlib of zeros is tiny).
 */
import { join } from 'node:path';
import { createDeflate, constants } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { encode as encodeJpeg } from 'jpeg-js';
import { crc32 } from '../../src-main/imageio/crc32';
import { DatasetError } from '../../src-main/data/dataset';
import { decodeImage, loadImageFolder } from '../../src-main/data/imageFolder';
import { imageSize, MAX_IMAGE_PIXELS } from '../../src-main/data/imageSize';
import { tempDir, write } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('iddpm-bomb-'));
});
afterEach(() => cleanup());

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** zlib stream of `n` zero bytes, compressed as it is produced so no n-byte buffer ever exists. */
async function zlibOfZeros(n: number): Promise<Buffer> {
  const d = createDeflate({ level: 9, memLevel: 9, strategy: constants.Z_RLE });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((r) => d.on('end', r));
  const zeros = Buffer.alloc(1 << 24);
  for (let left = n; left > 0; left -= zeros.length) {
    if (!d.write(zeros.subarray(0, Math.min(left, zeros.length)))) await new Promise((r) => d.once('drain', r));
  }
  d.end();
  await ended;
  return Buffer.concat(out);
}

/** A valid 8-bit greyscale PNG of width × height black pixels. */
async function blackPng(width: number, height: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const idat = await zlibOfZeros((width + 1) * height); // a filter byte (0) and `width` pixels per row
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

describe('decompression bombs', () => {
  it('a 31000² PNG of about 1 MB is refused from its header, naming the file, without decoding it', async () => {
    const bomb = await blackPng(31000, 31000);
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const file = write(join(dir, 'imgs', 'b', 'bomb.png'), bomb);
    write(join(dir, 'imgs', 'a.png'), PNG.sync.write(Object.assign(new PNG({ width: 4, height: 4 }), { data: Buffer.alloc(64, 200) })));
    const rssBefore = process.memoryUsage().rss;
    const err = await loadImageFolder(join(dir, 'imgs'), 8, 3).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).path).toBe(file);
    expect((err as Error).message).toBe(
      `image ${file} is 31000×31000 pixels (961 megapixels), more than the 89.5 megapixels the studio decodes per image (decoding it would take 3.6 GiB or more): shrink the image or remove it from the folder`,
    );
    // Refused before inflating: the process did not grow by the gigabytes decoding takes.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024);
  });

  it('reads the size a PNG or JPEG header claims', async () => {
    expect(imageSize(await blackPng(300, 20))).toEqual({ width: 300, height: 20 });
    const jpeg = encodeJpeg({ width: 40, height: 24, data: Buffer.alloc(40 * 24 * 4, 128) }, 90).data;
    expect(imageSize(jpeg)).toEqual({ width: 40, height: 24 });
    expect(imageSize(new Uint8Array([1, 2, 3, 4]))).toBeNull();
  });

  it('a JPEG whose frame header claims 40000×40000 is refused before decoding', () => {
    // SOI, an APP0 segment, then SOF0 with 40000×40000 and 3 components (no scan follows).
    const app0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
    const sof0 = [0xff, 0xc0, 0x00, 0x11, 0x08, 0x9c, 0x40, 0x9c, 0x40, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01];
    const bytes = new Uint8Array([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xd9]);
    expect(() => decodeImage(bytes, '/data/huge.jpg')).toThrow(/image \/data\/huge\.jpg is 40000×40000 pixels \(1600 megapixels\)/);
  });

  it('images up to the cap still decode', () => {
    expect(MAX_IMAGE_PIXELS).toBe(89_478_485);
    const png = PNG.sync.write(Object.assign(new PNG({ width: 3, height: 2 }), { data: Buffer.alloc(24, 90) }));
    expect(decodeImage(png, 'ok.png')).toMatchObject({ width: 3, height: 2 });
    // A cap below the image's size refuses it: the limit is what decides, not the format.
    expect(() => decodeImage(png, 'ok.png', 5)).toThrow(/ok\.png is 3×2 pixels/);
  });
});
