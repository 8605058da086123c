import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { dashboardPagePlugin } from '../../../src/roles/web/dashboard-page.js';
import { configuratorPagePlugin } from '../../../src/roles/web/configurator-page.js';

describe('the Dashboard pages', () => {
  it('are shells that load the bundle by content hash, next to the Configurator, and say how to build it when it is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-public-'));
    try {
      const server = Fastify();
      await server.register(configuratorPagePlugin, { assetsDir: dir, accountsExist: async () => false });
      await server.register(dashboardPagePlugin, { assetsDir: dir, accountsExist: async () => false });
      const missing = await server.inject({ url: '/dashboard' });
      expect(missing.statusCode).toBe(200);
      expect(missing.body).toContain('run <code>npm run build</code>');
      expect(missing.body).not.toContain('<script');

      writeFileSync(join(dir, 'dashboard.js'), 'console.log(1)\n');
      writeFileSync(join(dir, 'dashboard.css'), 'body{}\n');
      const overview = await server.inject({ url: '/dashboard' });
      expect(overview.body).toMatch(/<script type="module" src="\/assets\/dashboard\.js\?v=[0-9a-f]{12}"><\/script>/);
      expect(overview.body).toMatch(/<link rel="stylesheet" href="\/assets\/dashboard\.css\?v=[0-9a-f]{12}">/);
      expect(overview.body).toContain('data-page="overview"');
      expect(overview.body).toContain('href="/dashboard"');
      // No session: no CSRF token to hand out.
      expect(overview.body).not.toContain('csrf-token');

      const detail = await server.inject({ url: '/dashboard/component/%3Cb%3Eweb-1' });
      expect(detail.statusCode).toBe(200);
      expect(detail.body).toContain('data-page="component" data-component="&lt;b&gt;web-1"');

      expect((await server.inject({ url: '/assets/dashboard.js' })).headers['content-type']).toMatch(/^text\/javascript/);
      expect((await server.inject({ url: '/assets/dashboard.js.map' })).statusCode).toBe(404);
      expect((await server.inject({ url: '/assets/configurator.js' })).statusCode).toBe(404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('need admin once accounts exist: a browser is sent to log in', async () => {
    const server = Fastify();
    await server.register(dashboardPagePlugin, { accountsExist: async () => true });
    const browser = await server.inject({ url: '/dashboard/component/web-1', headers: { accept: 'text/html' } });
    expect(browser.statusCode).toBe(303);
    expect(browser.headers.location).toBe('/login?next=%2Fdashboard%2Fcomponent%2Fweb-1');
    expect((await server.inject({ url: '/dashboard' })).statusCode).toBe(401);
  });
});
