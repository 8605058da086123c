/**
 * The browser bundles that `scripts/build-browser.mjs` writes into `dist/public/` (the
 * Configurator, the Operations Dashboard), served under `/assets/`, and the tags a page
 * shell loads them with. Each page plugin serves its own bundle's files by name, so that
 * nothing else under the directory is reachable and two plugins never claim one route.
 *
 * Files are read on demand and kept while unchanged: a rebuild is picked up without a
 * restart, and a node without the bundle still starts (its page says how to build it).
 */

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withAccess } from '../../auth/route-access.js';
import { html, type Html } from './html.js';

/** `dist/public/` of the checkout: the same from `src/` under tsx and from `dist/`. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../../dist/public/', import.meta.url));

/** The files of a bundle, with their types. */
const BUNDLE_FILES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.js.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.css.map': 'application/json; charset=utf-8',
};

export interface Asset {
  body: Buffer;
  etag: string;
  /** Short content hash, put in the page's URLs so that a new build is fetched at once. */
  version: string;
  mtimeMs: number;
  size: number;
}

export class AssetFiles {
  private readonly cache = new Map<string, Asset>();
  /** Reads under way, by file and version: requests that arrive together share one read and hash (a bundle is 1.6 MB). */
  private readonly reading = new Map<string, Promise<Asset>>();

  constructor(readonly dir: string = DEFAULT_ASSETS_DIR) {}

  async load(name: string): Promise<Asset | undefined> {
    const path = join(this.dir, name);
    let info;
    try {
      info = await stat(path);
    } catch {
      this.cache.delete(name);
      return undefined;
    }
    const known = this.cache.get(name);
    if (known && known.mtimeMs === info.mtimeMs && known.size === info.size) return known;
    const key = `${name}\u0000${info.mtimeMs}\u0000${info.size}`;
    let read = this.reading.get(key);
    if (!read) {
      const { mtimeMs, size } = info;
      read = (async () => {
        const body = await readFile(path);
        const hash = createHash('sha256').update(body).digest('hex');
        return { body, etag: `"${hash.slice(0, 32)}"`, version: hash.slice(0, 12), mtimeMs, size };
      })().finally(() => this.reading.delete(key));
      this.reading.set(key, read);
    }
    const asset = await read;
    this.cache.set(name, asset);
    return asset;
  }

  /**
   * The `<link>` and `<script>` of a bundle, by content hash (one external module script:
   * the Content-Security-Policy allows no inline one), and whether its script is built.
   */
  async tags(bundle: string): Promise<{ head: Html; built: boolean }> {
    const [script, style] = await Promise.all([this.load(`${bundle}.js`), this.load(`${bundle}.css`)]);
    const head = html`${style ? html`<link rel="stylesheet" href="/assets/${bundle}.css?v=${style.version}">` : ''}${script ? html`<script type="module" src="/assets/${bundle}.js?v=${script.version}"></script>` : ''}`;
    return { head, built: script !== undefined };
  }
}

/** Serves `/assets/BUNDLE.js`, `.css` and their source maps; public, since a bundle holds no data. */
export function serveBundle(app: FastifyInstance, files: AssetFiles, bundle: string): void {
  for (const [suffix, type] of Object.entries(BUNDLE_FILES)) {
    const name = `${bundle}${suffix}`;
    app.get<{ Querystring: { v?: string } }>(`/assets/${name}`, withAccess('public'), async (request: FastifyRequest<{ Querystring: { v?: string } }>, reply: FastifyReply) => {
      const asset = await files.load(name);
      if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
      // A URL naming this build's hash may be kept for ever; any other must be revalidated.
      const pinned = typeof request.query.v === 'string' && request.query.v === asset.version;
      reply.header('etag', asset.etag).header('cache-control', pinned ? 'public, max-age=31536000, immutable' : 'no-cache').header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.type(type).send(asset.body);
    });
  }
}
