/**
 * Chart.js, registered once with only what the studio draws (line charts on linear/log axes), which
 * keeps the bundle small. Global defaults: no animation (live charts redraw every frame; animating
 * would lag behind and cost CPU), thin lines, no point markers.
 */
import {
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.font.size = 11;

export { Chart };

export { PALETTE, colorAt } from '../../../src-shared/chartPalette';
