#!/usr/bin/env node
// Rasterises resources/icon.svg into the PNG sizes the app and the packagers use:
//   resources/icons/<N>x<N>.png  for N in 16 24 32 48 64 128 256 512 (Linux icon set, window icons)
//   resources/icon.png           1024×1024, electron-builder's source for the Windows .ico and macOS .icns
// The PNGs are committed; run this (`npm run build:icons`) only after editing the SVG.
// Uses Chromium through playwright-core (a devDependency): CHROMIUM_PATH, else /usr/bin/chromium.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resources = join(root, 'resources');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

if (!existsSync(executablePath)) {
  console.error(`build-icons: no Chromium at ${executablePath}; set CHROMIUM_PATH to a Chromium or Chrome binary.`);
  process.exit(1);
}

const svg = readFileSync(join(resources, 'icon.svg'), 'utf8');
const dataUrl = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  mkdirSync(join(resources, 'icons'), { recursive: true });
  for (const size of ICON_SIZES) {
    await page.setViewportSize({ width: size, height: size });
    // The browser's own SVG renderer scales the vector source to each size (no resampling of a big PNG).
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img src="${dataUrl}" width="${size}" height="${size}" style="display:block"></body></html>`,
    );
    await page.waitForFunction(() => document.images[0]?.complete);
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    const out = size === 1024 ? 'icon.png' : join('icons', `${size}x${size}.png`);
    writeFileSync(join(resources, out), png);
    console.log(`build-icons: resources/${out}`);
  }
} finally {
  await browser.close();
}
