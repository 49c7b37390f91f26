/**
 * Floating-point operations of one UNet forward pass per image, counted from the layout: 2·MACs of every
 * convolution, linear layer and attention matmul (normalisation and activations are ignored: they are a
 * few percent). A training step costs about 3× the forward (forward + input and weight gradients).
 */
import type { LayerLayout, UNetLayout } from './layout';

export function unetForwardFlops(layout: UNetLayout, imageSize: number): number {
  const spec = layout.spec;
  const C = spec.modelChannels;
  let flops = 2 * (C * 4 * C + 4 * C * 4 * C); // time embedding MLP
  const conv = (k: number, cin: number, cout: number, hw: number) => 2 * k * k * cin * cout * hw * hw;
  let size = imageSize;
  const layer = (l: LayerLayout, res: number): number => {
    switch (l.type) {
      case 'convIn':
        return conv(3, l.inCh, l.outCh, res);
      case 'res':
        return (
          conv(3, l.inCh, l.outCh, res) +
          conv(3, l.outCh, l.outCh, res) +
          2 * 4 * C * (spec.useScaleShiftNorm ? 2 : 1) * l.outCh +
          (l.inCh !== l.outCh ? conv(1, l.inCh, l.outCh, res) : 0)
        );
      case 'attn': {
        const n = res * res;
        return 2 * n * l.ch * 3 * l.ch + 2 * n * l.ch * l.ch + 2 * 2 * n * n * l.ch; // qkv, proj, QKᵀ and AV
      }
      case 'down':
        return conv(3, l.ch, l.ch, res / 2);
      case 'up':
        return conv(3, l.ch, l.ch, res * 2);
    }
  };
  for (const block of layout.inputBlocks) {
    for (const l of block.layers) flops += layer(l, size);
    if (block.layers.some((l) => l.type === 'down')) size /= 2;
  }
  for (const l of layout.middleBlock.layers) flops += layer(l, size);
  for (const block of layout.outputBlocks) {
    for (const l of block.layers) flops += layer(l, size);
    if (block.layers.some((l) => l.type === 'up')) size *= 2;
  }
  flops += conv(3, C, spec.outChannels, size);
  return flops;
}
