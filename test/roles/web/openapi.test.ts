/**
 * The OpenAPI document against a real node: every route it registers under `/api/`
 * (and the collector's and health routes) is described, with the method it answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import { startNode, type RunningNode } from '../../../src/node/node.js';
import { apiDocsPage, inlineMarkdown, openApiDocument } from '../../../src/roles/web/openapi.js';
import { PROCESSED_CRASH_FIELDS } from '../../../src/schema/processed-crash.js';

let dir: string;
let node: RunningNode;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-openapi-'));
  const { config, findings } = loadConfig({ env: {}, overrides: { 'node.data_dir': dir, 'web.port': '0', 'web.host': '127.0.0.1', 'node.roles': 'collector, web' } });
  if (!config) throw new Error(JSON.stringify(findings));
  node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Paths = Record<string, Record<string, { security?: unknown[]; responses?: Record<string, unknown>; parameters?: { name: string }[] }>>;

describe('OpenAPI document', () => {
  it('describes every route a running node registers under /api/, with its method', () => {
    const paths = openApiDocument().paths as Paths;
    const apiRoutes = node.routes.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD');
    expect(apiRoutes.length).toBeGreaterThan(8);
    // Fastify's `:id` is OpenAPI's `{id}`.
    const missing = apiRoutes.filter((r) => !paths[r.url.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });

  it('describes the collector, symbol upload, status and health routes too', () => {
    const paths = openApiDocument().paths as Paths;
    for (const url of ['/submit', '/symbols/upload', '/status/json', '/__lbheartbeat__', '/__heartbeat__', '/__version__']) {
      expect(node.routes.some((r) => r.url === url), url).toBe(true);
      expect(paths[url], url).toBeDefined();
    }
  });

  it('is OpenAPI 3.1 with the Auth-Token scheme, and every operation says who may call it and what it answers', () => {
    const document = openApiDocument();
    expect(document.openapi).toBe('3.1.0');
    expect((document.components as { securitySchemes: Record<string, unknown> }).securitySchemes.AuthToken).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'Auth-Token' }));
    for (const [url, item] of Object.entries(document.paths as Paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.security, `${method} ${url}`).toBeInstanceOf(Array);
        expect(Object.keys(op.responses ?? {}).length, `${method} ${url}`).toBeGreaterThan(0);
      }
    }
  });

  it('lists every searchable field as a Super Search parameter, marking protected ones', () => {
    const search = (openApiDocument().paths as Paths)['/api/SuperSearch/']!.get!;
    const names = new Set(search.parameters!.map((p) => p.name));
    for (const field of PROCESSED_CRASH_FIELDS.filter((f) => f.searchable)) expect(names.has(field.name), field.name).toBe(true);
    const email = search.parameters!.find((p) => p.name === 'email') as Record<string, unknown>;
    expect(email['x-permission']).toBe('view_protected');
  });

  it('is served at /api/openapi.json, and as a readable page at /api/ made from it', async () => {
    const served = (await (await fetch(`${node.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    const response = await fetch(`${node.url}/api/`);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const page = await response.text();
    for (const url of Object.keys(served.paths)) expect(page).toContain(`<code>${url}</code>`);
    expect(apiDocsPage(openApiDocument())).toBe(page);
  });
});

describe('API docs page', () => {
  it('renders the descriptions\' code and strong spans, escaping everything else', () => {
    expect(inlineMarkdown('a `b<c>` **d** <script>').text).toBe('a <code>b&lt;c&gt;</code> <strong>d</strong> &lt;script&gt;');
  });
});
