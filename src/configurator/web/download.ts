/** Files made in the browser and handed to the user: the deployment's zip and the graph's images. */

import { strToU8, zipSync, type Zippable } from 'fflate';
import { parseIni } from '../../config/ini.js';
import { findOption } from '../../config/schema.js';
import type { DeploymentFile } from '../deployment.js';

/** Unix permissions to store: a file holding a secret is private (the security layer checks it after unzipping). */
export function fileMode(file: DeploymentFile): number {
  if (file.mode !== undefined) return file.mode & 0o777;
  try {
    return parseIni(file.text).entries.some((e) => findOption(e.section, e.key)?.secret) ? 0o600 : 0o644;
  } catch {
    return 0o600;
  }
}

export function deploymentZip(files: readonly DeploymentFile[]): Uint8Array {
  const entries: Zippable = {};
  for (const file of files) {
    // "Made by Unix" with the mode in the high half of the external attributes: unzip restores it.
    entries[file.name] = [strToU8(file.text), { os: 3, attrs: ((0o100000 | fileMode(file)) << 16) >>> 0, level: 6 }];
  }
  return zipSync(entries);
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Chrome starts the download from the click; the URL is needed no longer after that.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Draws the SVG on a canvas (twice its size, for sharp text) and encodes it as PNG. */
export async function svgToPng(svg: string, scale = 2): Promise<Blob> {
  const size = /<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"/.exec(svg);
  const width = Number(size?.[1] ?? 800);
  const height = Number(size?.[2] ?? 600);
  const image = new Image();
  // A data: URL (allowed by the page's img-src) keeps the canvas untainted, unlike a blob: one here.
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil(width * scale);
  canvas.height = Math.ceil(height * scale);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser cannot draw on a canvas');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the PNG could not be encoded'))), 'image/png'));
}
