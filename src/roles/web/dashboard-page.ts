/**
 * The Operations Dashboard's pages: `/dashboard` (problems, components, queues, the running
 * topology), `/dashboard/component/NAME@HOST` (one component, its history, its removal;
 * a bare NAME, as older links have, when one node has it), `/dashboard/queue/NAME` (one
 * queue, its figures and history), and their browser bundle
 * (`/assets/dashboard.*`). The pages are shells: the app runs in the browser on
 * `/api/ops/stream` and `/api/ops/history`, which check access themselves; the shell is
 * guarded the same way (`view_ops` once accounts exist) so that a visitor without it is
 * sent to log in instead of getting a page that cannot fill itself.
 */

import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { withAccess, type AccountsProbe } from '../../auth/route-access.js';
import { QUEUE_NAMES } from '../../ports/queue.js';
import { AssetFiles, serveBundle } from './browser-assets.js';
import { html, type Html } from './html.js';
import { page } from './layout.js';

export interface DashboardPageOptions {
  accountsExist: AccountsProbe;
  /** Where the bundle is; `dist/public/` of the checkout by default. */
  assetsDir?: string;
}

export const dashboardPagePlugin: FastifyPluginAsync<DashboardPageOptions> = async (app, options) => {
  const files = new AssetFiles(options.assetsDir);
  serveBundle(app, files, 'dashboard');
  const access = withAccess({ permission: 'view_ops', onceAccountsExist: options.accountsExist });

  const shell = async (request: FastifyRequest, title: string, root: Html): Promise<string> => {
    const { head, built } = await files.tags('dashboard');
    // The removal of a node is a DELETE: a session must send its CSRF token, which the app reads from here.
    const csrf = request.session ? html`<meta name="csrf-token" content="${request.session.csrfToken}">` : html``;
    const body = built
      ? html`${root}<noscript><div class="card">The Dashboard runs in your browser: enable JavaScript, or read <code>/api/ops/overview</code>.</div></noscript>`
      : html`<h1>${title}</h1><div class="card" data-testid="dashboard-missing">The Dashboard's browser code is not built: run <code>npm run build</code> in the checkout (it writes <code>dist/public/dashboard.js</code>), then reload. Meanwhile <a href="/api/ops/overview"><code>/api/ops/overview</code></a> has the same figures as JSON.</div>`;
    return page(title, body, { head: html`${csrf}${head}`, wide: true });
  };

  app.get('/dashboard', access, async (request, reply) => {
    const root = html`<div id="dashboard-root" data-page="overview" data-testid="dashboard-root"><div class="card muted">Loading the Dashboard…</div></div>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(await shell(request, 'Dashboard', root));
  });

  app.get<{ Params: { name: string } }>('/dashboard/component/:name', access, async (request, reply) => {
    const name = request.params.name;
    const root = html`<div id="dashboard-root" data-page="component" data-component="${name}" data-testid="dashboard-root"><div class="card muted">Loading ${name}…</div></div>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(await shell(request, `${name} · Dashboard`, root));
  });

  app.get<{ Params: { name: string } }>('/dashboard/queue/:name', access, async (request, reply) => {
    const name = request.params.name;
    // The queues are fixed: a mistyped name gets a 404 that says which exist, not an app that waits for a queue that never comes.
    const known = (QUEUE_NAMES as readonly string[]).includes(name);
    const root = known
      ? html`<div id="dashboard-root" data-page="queue" data-queue="${name}" data-testid="dashboard-root"><div class="card muted">Loading the ${name} queue…</div></div>`
      : html`<h1>No queue named ${name}</h1><div class="card" data-testid="queue-missing">There is no queue named <strong>${name}</strong>. The queues are ${QUEUE_NAMES.map((q, i) => html`${i > 0 ? ', ' : ''}<a href="/dashboard/queue/${q}">${q}</a>`)}. <a href="/dashboard">Back to the Dashboard</a>.</div>`;
    const title = known ? `${name} queue · Dashboard` : 'No such queue · Dashboard';
    return reply
      .code(known ? 200 : 404)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(known ? await shell(request, title, root) : page(title, root, { wide: true }));
  });
};
