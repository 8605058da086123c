/**
 * The Configurator's page (`/configurator`) and its browser bundle (`/assets/...`), built
 * by `scripts/build-browser.mjs` into `dist/public/`. The page is a shell: the app (Preact,
 * the validator the CLI runs, ELK for the graph) runs in the browser and sends nothing back
 * to the node, so the route reads no store. The Content-Security-Policy allows scripts from
 * the site only, hence one external module script and no inline one.
 */

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { withAccess, type AccountsProbe } from '../../auth/route-access.js';
import { html } from './html.js';
import { page } from './layout.js';

export interface ConfiguratorPageOptions {
  /**
   * Whether the deployment has accounts yet: until it has, the page is open to anyone (a
   * fresh install is configured before its first user exists); then it needs \`admin\`.
   * The bundle itself (/assets/) holds no data and stays public.
   */
  accountsExist: AccountsProbe;
  /** Where the bundle is; `dist/public/` of the checkout by default (the same from `src/` under tsx and from `dist/`). */
  assetsDir?: string;
}

const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../../dist/public/', import.meta.url));

/** The files served, with their types; nothing else under the directory is reachable. */
const ASSETS: Record<string, string> = {
  'configurator.js': 'text/javascript; charset=utf-8',
  'configurator.js.map': 'application/json; charset=utf-8',
  'configurator.css': 'text/css; charset=utf-8',
  'configurator.css.map': 'application/json; charset=utf-8',
};

interface Asset {
  body: Buffer;
  etag: string;
  /** Short content hash, put in the page's URLs so that a new build is fetched at once. */
  version: string;
  mtimeMs: number;
  size: number;
}

export const configuratorPagePlugin: FastifyPluginAsync<ConfiguratorPageOptions> = async (app, options) => {
  const dir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  const cache = new Map<string, Asset>();

  // Read on demand and kept while the file is unchanged: a rebuild is picked up without a
  // restart, and a node without the bundle still starts (the page says how to build it).
  const load = async (name: string): Promise<Asset | undefined> => {
    const path = join(dir, name);
    let info;
    try {
      info = await stat(path);
    } catch {
      cache.delete(name);
      return undefined;
    }
    const known = cache.get(name);
    if (known && known.mtimeMs === info.mtimeMs && known.size === info.size) return known;
    const body = await readFile(path);
    const hash = createHash('sha256').update(body).digest('hex');
    const asset: Asset = { body, etag: `"${hash.slice(0, 32)}"`, version: hash.slice(0, 12), mtimeMs: info.mtimeMs, size: info.size };
    cache.set(name, asset);
    return asset;
  };

  app.get('/configurator', withAccess({ permission: 'admin', onceAccountsExist: options.accountsExist }), async (_request, reply) => {
    const [script, style] = await Promise.all([load('configurator.js'), load('configurator.css')]);
    const head = html`${style ? html`<link rel="stylesheet" href="/assets/configurator.css?v=${style.version}">` : ''}${script ? html`<script type="module" src="/assets/configurator.js?v=${script.version}"></script>` : ''}`;
    const body = script
      ? html`<div id="configurator-root" data-testid="configurator-root"><div class="card muted">Loading the Configurator…</div></div>
<noscript><div class="card">The Configurator runs in your browser: enable JavaScript, or use <code>mayday config init|validate|graph</code>.</div></noscript>`
      : html`<h1>Configurator</h1><div class="card" data-testid="configurator-missing">The Configurator's browser code is not built: run <code>npm run build</code> in the checkout (it writes <code>dist/public/configurator.js</code>), then reload. Meanwhile <code>mayday config init|validate|graph</code> do the same from the command line.</div>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(page('Configurator', body, { head, wide: script !== undefined }));
  });

  const serve = async (request: FastifyRequest<{ Params: { name: string }; Querystring: { v?: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    const name = request.params.name;
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    const asset = type ? await load(name) : undefined;
    if (!type || !asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    // A URL naming this build's hash may be kept for ever; any other must be revalidated.
    const pinned = typeof request.query.v === 'string' && request.query.v === asset.version;
    reply.header('etag', asset.etag).header('cache-control', pinned ? 'public, max-age=31536000, immutable' : 'no-cache').header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(type).send(asset.body);
  };
  app.get<{ Params: { name: string }; Querystring: { v?: string } }>('/assets/:name', withAccess('public'), serve);
};
