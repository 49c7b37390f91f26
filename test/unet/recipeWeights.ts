/** The golden UNet weights, shared by the forward tests on every backend. Not a test file itself. */
import type { UNetLayout } from '../../src-main/engine/unet/layout';

/**
 * The golden weight recipe: for the i-th parameter, element j of its flat reference layout,
 * s = sin(0.7·j + 1.3·(i+1)); weights of ≥2 dims s/√fan_in, 1-dim weights 1 + 0.1·s, biases 0.1·s.
 */
export function recipeWeights(layout: UNetLayout) {
  const source = new Map<string, { shape: number[]; data: Float32Array }>();
  layout.params.forEach((p, i) => {
    const n = p.refShape.reduce((a, b) => a * b, 1);
    const fanIn = n / p.refShape[0];
    const data = new Float32Array(n);
    const isBias = p.name.endsWith('.bias');
    for (let j = 0; j < n; j++) {
      const s = Math.sin(0.7 * j + 1.3 * (i + 1));
      data[j] = isBias ? 0.1 * s : p.refShape.length >= 2 ? s / Math.sqrt(fanIn) : 1 + 0.1 * s;
    }
    source.set(p.name, { shape: p.refShape, data });
  });
  return source;
}

