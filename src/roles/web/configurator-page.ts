/**
 * The Configurator's page (`/configurator`) and its browser bundle (`/assets/...`), built
 * by `scripts/build-browser.mjs` into `dist/public/`. The page is a shell: the app (Preact,
 * the validator the CLI runs, ELK for the graph) runs in the browser and sends nothing back
 * to the node, so the route reads no store. The Content-Security-Policy allows scripts from
 * the site only, hence one external module script and no inline one.
 */

import type { FastifyPluginAsync } from 'fastify';
import { withAccess, type AccountsProbe } from '../../auth/route-access.js';
import { AssetFiles, serveBundle } from './browser-assets.js';
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

export const configuratorPagePlugin: FastifyPluginAsync<ConfiguratorPageOptions> = async (app, options) => {
  const files = new AssetFiles(options.assetsDir);
  serveBundle(app, files, 'configurator');

  app.get('/configurator', withAccess({ permission: 'admin', onceAccountsExist: options.accountsExist }), async (_request, reply) => {
    const { head, built } = await files.tags('configurator');
    const body = built
      ? html`<div id="configurator-root" data-testid="configurator-root"><div class="card muted">Loading the Configurator…</div></div>
<noscript><div class="card">The Configurator runs in your browser: enable JavaScript, or use <code>mayday config init|validate|graph</code>.</div></noscript>`
      : html`<h1>Configurator</h1><div class="card" data-testid="configurator-missing">The Configurator's browser code is not built: run <code>npm run build</code> in the checkout (it writes <code>dist/public/configurator.js</code>), then reload. Meanwhile <code>mayday config init|validate|graph</code> do the same from the command line.</div>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(page('Configurator', body, { head, wide: built }));
  });
};
