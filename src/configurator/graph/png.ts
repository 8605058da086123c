/**
 * Rasterises a deployment graph's SVG (from `svg.ts`) to PNG with resvg, for the CLI and
 * for reports. Node only: resvg is a native module, and it reads the system's fonts.
 */

import { Resvg } from '@resvg/resvg-js';

export function renderPng(svg: string, options: { scale?: number } = {}): Buffer {
  const scale = options.scale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`scale must be a positive number, not ${scale}`);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: {
      loadSystemFonts: true,
      // The SVG asks for DejaVu Sans first; when it is missing, resvg falls back to this
      // family name and then to any sans-serif font it found.
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}
