/**
 * A whole chart redraw in a real browser: 100,000 loss points decimated with the renderer's LTTB to the
 * canvas width and drawn by Chart.js with the LineChart's options (animation off, parsing off), in headless
 * Debian Chromium. Reports the median ms of one redraw (decimate + update + paint); the budget is 50 ms.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHROMIUM = '/usr/bin/chromium';

export interface ChartRedrawResult {
  points: number;
  drawn: number;
  redrawMsMedian: number;
  runs: number;
}

export async function benchChartRedraw(points = 100_000, runs = 15): Promise<ChartRedrawResult | null> {
  if (!existsSync(CHROMIUM)) return null;
  const lttb = buildSync({
    entryPoints: [path.join(root, 'src-renderer/src/charts/lttb.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'LTTB',
    write: false,
  }).outputFiles[0].text;
  const chartJs = readFileSync(path.join(root, 'node_modules/chart.js/dist/chart.umd.js'), 'utf8');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 400 } });
    await page.setContent('<div style="width:860px;height:320px"><canvas id="c"></canvas></div>');
    await page.addScriptTag({ content: chartJs });
    await page.addScriptTag({ content: lttb });
    // Plain JavaScript: tsx would decorate a function passed to evaluate() with helpers the page lacks.
    const result = await page.evaluate(`(async () => {
      const points = ${points}, runs = ${runs};
      const xs = new Float64Array(points), ys = new Float64Array(points);
      let v = 1;
      for (let i = 0; i < points; i++) {
        xs[i] = i + 1;
        v = 0.9 * v + 0.1 * Math.sin(i * 12.9898) * 0.5;
        ys[i] = Math.exp(-i / 20000) + Math.abs(v) + 0.01;
      }
      const canvas = document.getElementById('c');
      const chart = new Chart(canvas, {
        type: 'line',
        data: { datasets: [{ data: [], borderWidth: 1.5, pointRadius: 0 }] },
        options: { animation: false, parsing: false, normalized: true, responsive: true, maintainAspectRatio: false,
          scales: { x: { type: 'linear' }, y: { type: 'logarithmic' } } },
      });
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      const times = [];
      let drawn = 0;
      for (let k = 0; k <= runs; k++) {
        await frame();
        const t0 = performance.now();
        const d = LTTB.lttb(xs, ys, Math.max(2, Math.floor(canvas.clientWidth)));
        chart.data.datasets[0].data = d.x.map((x, i) => ({ x, y: d.y[i] }));
        chart.update('none'); // draws synchronously with animation off
        const ms = performance.now() - t0;
        drawn = d.x.length;
        if (k > 0) times.push(ms); // the first includes chart set-up and JIT warm-up
      }
      times.sort((a, b) => a - b);
      return { points, drawn, redrawMsMedian: times[Math.floor(times.length / 2)], runs };
    })()`);
    return result as ChartRedrawResult;
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const r = await benchChartRedraw();
  process.stdout.write(r ? `${JSON.stringify(r)}\n` : `no Chromium at ${CHROMIUM}\n`);
}
