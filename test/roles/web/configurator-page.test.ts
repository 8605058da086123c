import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { configuratorPagePlugin } from '../../../src/roles/web/configurator-page.js';

async function app(assetsDir: string, accountsExist = async () => false) {
  const server = Fastify();
  await server.register(configuratorPagePlugin, { assetsDir, accountsExist });
  return server;
}

describe('the Configurator page', () => {
  it('says how to build the bundle when it is missing, instead of failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-public-'));
    try {
      const server = await app(dir);
      const page = await server.inject({ url: '/configurator' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('run <code>npm run build</code>');
      expect(page.body).not.toContain('<script');
      expect((await server.inject({ url: '/assets/configurator.js' })).statusCode).toBe(404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is open while the deployment has no accounts, then needs admin: a browser is sent to log in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-public-'));
    try {
      let accounts = false;
      const server = await app(dir, async () => accounts);
      expect((await server.inject({ url: '/configurator', headers: { accept: 'text/html' } })).statusCode).toBe(200);
      accounts = true;
      const browser = await server.inject({ url: '/configurator', headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(browser.statusCode).toBe(303);
      expect(browser.headers.location).toBe('/login?next=%2Fconfigurator');
      const script = await server.inject({ url: '/configurator' });
      expect(script.statusCode).toBe(401);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('links the bundle by content hash, with no inline script, and serves only the known files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-public-'));
    try {
      writeFileSync(join(dir, 'configurator.js'), 'console.log(1)\n');
      writeFileSync(join(dir, 'configurator.css'), 'body{}\n');
      writeFileSync(join(dir, 'secret.txt'), 'no\n');
      const server = await app(dir);
      const page = await server.inject({ url: '/configurator' });
      const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts).toHaveLength(1);
      expect(scripts[0][1]).toMatch(/ src="\/assets\/configurator\.js\?v=[0-9a-f]{12}"/);
      expect(scripts[0][2]).toBe('');
      expect(page.body).toMatch(/<link rel="stylesheet" href="\/assets\/configurator\.css\?v=[0-9a-f]{12}">/);
      expect(page.body).toContain('href="/configurator"');

      const css = await server.inject({ url: '/assets/configurator.css' });
      expect(css.headers['content-type']).toMatch(/^text\/css/);
      expect(css.headers['cache-control']).toBe('no-cache');
      expect((await server.inject({ url: '/assets/configurator.css', headers: { 'if-none-match': String(css.headers.etag) } })).statusCode).toBe(304);
      expect((await server.inject({ url: '/assets/secret.txt' })).statusCode).toBe(404);
      expect((await server.inject({ url: '/assets/..%2Fsecret.txt' })).statusCode).toBe(404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
