/**
 * The OpenAPI document against what a real all-roles node answers. For every documented
 * operation the test sends real requests (anonymously, with a token lacking the permission
 * the operation names, with a good token, and with a bad parameter) and checks that each
 * answer's status is one the document lists for that operation. It also checks that every
 * route the node registers under `/api/` is documented, and every documented operation is
 * a route of the node, so the document cannot drift from the code in either direction.
 *
 * Each operation needs an entry in `PROBES` below: a documented operation without one fails,
 * naming it, so a new endpoint comes with its probes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import { startNode, type RunningNode } from '../../../src/node/node.js';
import { SqliteTokenStore } from '../../../src/auth/token-store.js';
import { PERMISSIONS, type Permission } from '../../../src/common/permissions.js';
import { openApiDocument } from '../../../src/roles/web/openapi.js';
import { smallDumps } from '../../support/crash-clients.js';

type Operation = { security?: Record<string, unknown>[]; responses?: Record<string, unknown>; requestBody?: unknown; 'x-permission'?: Permission };
type Paths = Record<string, Record<string, Operation>>;

/** One request: its query string, a path with its parameters filled in, and a body. */
interface Probe {
  query?: string;
  path?: string;
  form?: Record<string, string>;
  json?: unknown;
  multipart?: () => FormData;
  raw?: { type: string; body: string };
}

interface Probes {
  /** A well-formed request (its answer may still be a documented 404: a crash that does not exist). */
  good: Probe;
  /** A request with a bad parameter or body: must be answered with a documented 4xx. */
  bad?: Probe;
  /** A request only some viewers may make (a protected field, a dump download): anonymous and unentitled callers are refused. */
  restricted?: { probe: Probe; permission: Permission };
}

let dir: string;
let node: RunningNode;
let crashId = '';
const tokens = new Map<Permission, string>();
const MODULE_ID = '0123456789ABCDEF0123456789ABCDEF0';
const SIGNATURE = 'OpenAPI | probe';

/** Every documented operation's requests. Keys are `METHOD path` as in the document. */
const PROBES: Record<string, () => Probes> = {
  'POST /submit': () => ({
    good: { multipart: () => crashForm() },
    bad: { raw: { type: 'text/plain', body: 'not a crash' } },
  }),
  'POST /symbols/upload': () => ({
    good: { multipart: () => symbolForm(`MODULE Linux x86_64 ${MODULE_ID} probe.so\nFILE 0 probe.c\nFUNC 1000 10 0 probe\n`) },
    bad: { multipart: () => symbolForm('this is not a symbol file\n') },
  }),
  // sym_upload v2: unknown upload keys answer 404, which a good token may get.
  'GET /symbols/v1/symbols/{debugFile}/{debugIdAction}': () => ({ good: { path: `/symbols/v1/symbols/probe.so/${MODULE_ID}:checkStatus` }, bad: { path: `/symbols/v1/symbols/probe.so/${MODULE_ID}:nope` } }),
  'POST /symbols/v1/uploads:create': () => ({ good: {} }),
  'PUT /symbols/v1/uploads/{uploadKey}': () => ({ good: { path: '/symbols/v1/uploads/unknown-key', raw: { type: 'application/octet-stream', body: `MODULE Linux x86_64 ${MODULE_ID} probe.so\n` } } }),
  'POST /symbols/v1/uploads/{uploadKeyAction}': () => ({
    good: { path: '/symbols/v1/uploads/unknown-key:complete', json: { symbol_id: { debug_file: 'probe.so', debug_id: MODULE_ID }, symbol_upload_type: 'BREAKPAD' } },
    bad: { path: '/symbols/v1/uploads/unknown-key:complete', json: { symbol_id: {} } },
  }),
  'GET /api/ProcessedCrash/': () => ({ good: { query: `crash_id=${crashId}` }, bad: { query: 'crash_id=not-a-crash' } }),
  'GET /api/RawCrash/': () => ({
    good: { query: `crash_id=${crashId}` },
    bad: { query: `crash_id=${crashId}&format=xml` },
    restricted: { probe: { query: `crash_id=${crashId}&format=raw` }, permission: 'download_dumps' },
  }),
  'GET /api/SuperSearch/': () => ({
    good: { query: 'product=App&_facets=signature' },
    bad: { query: '_results_number=many' },
    restricted: { probe: { query: 'email=~example' }, permission: 'view_protected' },
  }),
  'GET /api/SuperSearchUnredacted/': () => ({ good: { query: 'product=App&email=~example' }, bad: { query: '_results_number=many' } }),
  'GET /api/SuperSearchFields/': () => ({ good: {} }),
  'POST /api/Reprocessing/': () => ({ good: { form: { crash_ids: crashId } }, bad: { form: { crash_ids: 'not-a-crash' } } }),
  'GET /api/DeadLetters/': () => ({ good: {} }),
  'POST /api/DeadLetters/': () => ({ good: { form: { crash_id: crashId } }, bad: { form: { crash_id: 'not-a-crash' } } }),
  'GET /api/MissingSymbols/': () => ({ good: { query: 'days=7' }, bad: { query: 'format=xml' } }),
  'POST /api/ReprocessMissingSymbols/': () => ({ good: { query: `debug_file=probe.so&debug_id=${MODULE_ID}` }, bad: {} }),
  'GET /api/Bugs/': () => ({ good: { query: `signatures=${encodeURIComponent(SIGNATURE)}` }, bad: {} }),
  'GET /api/SignaturesByBugs/': () => ({ good: { query: 'bug_ids=1234' }, bad: { query: 'bug_ids=%3Cscript%3E' } }),
  'POST /api/BugLinks/': () => ({ good: { form: { signature: SIGNATURE, bug_id: '1234' } }, bad: { form: { signature: SIGNATURE, bug_id: 'two words' } } }),
  'DELETE /api/BugLinks/': () => ({ good: { json: { signature: SIGNATURE, bug_id: '1234' } }, bad: { json: { signature: SIGNATURE } } }),
  'POST /reprocess': () => ({ good: { form: { crash_id: crashId, return_to: '/' } }, bad: { form: { crash_id: crashId, return_to: '//elsewhere.example/' } } }),
  'POST /signature/bugs': () => ({ good: { form: { signature: SIGNATURE, bug_id: '99', return_to: '/topcrashers/' } }, bad: { form: { signature: SIGNATURE, bug_id: '99', return_to: '//elsewhere.example/' } } }),
  'GET /api/SignatureFirstDate/': () => ({ good: { query: `signatures=${encodeURIComponent(SIGNATURE)}` }, bad: {} }),
  'POST /api/CrashSignature/': () => ({ good: { json: { frames: ['abort', 'probe(int)', 'main'] } }, bad: { json: { frames: 'main' } } }),
  'GET /api/openapi.json': () => ({ good: {} }),
  'GET /api/': () => ({ good: {} }),
  'GET /status/json': () => ({ good: {} }),
  'GET /api/ops/jobs': () => ({ good: {} }),
  'GET /api/ops/overview': () => ({ good: {} }),
  'GET /api/ops/components': () => ({ good: {} }),
  'DELETE /api/ops/components/{id}': () => ({ good: { path: '/api/ops/components/gone%40nowhere%3A1' } }),
  'GET /api/ops/queues': () => ({ good: {} }),
  'GET /api/ops/stream': () => ({ good: {} }),
  'GET /api/ops/history': () => ({ good: { query: 'component=probe-node' }, bad: { query: 'component=probe-node&from=later' } }),
  'GET /__lbheartbeat__': () => ({ good: {} }),
  'GET /__heartbeat__': () => ({ good: {} }),
  'GET /__version__': () => ({ good: {} }),
  'GET /metrics': () => ({ good: {} }),
};

function crashForm(): FormData {
  const form = new FormData();
  form.set('ProductName', 'App');
  form.set('Version', '2.1');
  form.set('upload_file_minidump', new Blob([smallDumps(1)[0]!]), 'crash.dmp');
  return form;
}

function symbolForm(text: string): FormData {
  const form = new FormData();
  form.set('file', new Blob([text]), 'probe.sym');
  return form;
}

async function send(method: string, url: string, probe: Probe, token?: string): Promise<number> {
  const headers: Record<string, string> = {};
  if (token) headers['auth-token'] = token;
  let body: string | FormData | undefined;
  if (probe.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(probe.form).toString();
  } else if (probe.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(probe.json);
  } else if (probe.multipart) body = probe.multipart();
  else if (probe.raw) {
    headers['content-type'] = probe.raw.type;
    body = probe.raw.body;
  }
  const target = `${node.url}${probe.path ?? url}${probe.query ? `?${probe.query}` : ''}`;
  const response = await fetch(target, { method, headers, body, redirect: 'manual' });
  // An event stream never ends: its status is the answer.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) await response.body?.cancel();
  else await response.arrayBuffer();
  return response.status;
}

function documented(op: Operation, status: number): boolean {
  const responses = op.responses ?? {};
  return String(status) in responses || `${String(status)[0]}XX` in responses || 'default' in responses;
}

function operations(): { key: string; method: string; url: string; op: Operation }[] {
  const paths = openApiDocument().paths as Paths;
  return Object.entries(paths).flatMap(([url, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${url}`, method: method.toUpperCase(), url, op })));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-openapi-responses-'));
  const { config, findings } = loadConfig({
    env: {},
    overrides: { 'node.data_dir': dir, 'node.name': 'probe-node', 'web.port': '0', 'web.host': '127.0.0.1', 'web.api_rate_limit': '0', 'processor.workers': '1' },
  });
  if (!config) throw new Error(JSON.stringify(findings));
  node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
  const store = SqliteTokenStore.open(path.join(node.paths.dataDir, 'mayday.sqlite'));
  for (const permission of PERMISSIONS) tokens.set(permission, (await store.create({ user: `u-${permission}`, permissions: [permission] })).token);
  await store.close();
  // One processed crash, so that the crash routes answer their 200s and not only 404s.
  const submitted = await fetch(`${node.url}/submit`, { method: 'POST', body: crashForm() });
  crashId = /CrashID=bp-([0-9a-f-]+)/.exec(await submitted.text())![1]!;
  const deadline = Date.now() + 60_000;
  while ((await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${crashId}`)).status !== 200) {
    if (Date.now() > deadline) throw new Error('the crash was not processed in a minute');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 90_000);
afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('OpenAPI against the answers of a running node', () => {
  it('documents every /api route the node registers, and every documented operation is a route of the node', () => {
    const documentedKeys = new Set(operations().map((o) => o.key));
    // `::` is a literal colon in a route (sym_upload v2's `uploads:create`).
    const registered = node.routes.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url.replace(/(?<!:):([A-Za-z_]+)/g, '{$1}').replaceAll('::', ':')}`);
    expect(registered.filter((k) => k.split(' ')[1]!.startsWith('/api/') && !documentedKeys.has(k))).toEqual([]);
    expect([...documentedKeys].filter((k) => !registered.includes(k))).toEqual([]);
  });

  it('has probes for every documented operation', () => {
    expect(operations().map((o) => o.key).filter((k) => !(k in PROBES))).toEqual([]);
  });

  it('answers each probe with a status the document lists for its operation', async () => {
    const problems: string[] = [];
    for (const { key, method, url, op } of operations()) {
      const probes = PROBES[key]?.();
      if (!probes) continue;
      const permission = op['x-permission'];
      const anonymousAllowed = (op.security ?? []).some((s) => Object.keys(s).length === 0);
      const check = (what: string, status: number, expected?: (s: number) => boolean) => {
        if (!documented(op, status)) problems.push(`${key} ${what}: ${status} is not documented (documented: ${Object.keys(op.responses ?? {}).join(', ')})`);
        else if (expected && !expected(status)) problems.push(`${key} ${what}: ${status} is documented but wrong here`);
      };
      // A permission that is neither the one needed nor admin.
      const lacking = (needed: Permission) => tokens.get(PERMISSIONS.find((p) => p !== needed && p !== 'admin')!)!;

      check('anonymous', await send(method, url, probes.good), anonymousAllowed ? (s) => s !== 401 && s !== 403 : (s) => s === 401);
      if (permission) check(`with a token lacking ${permission}`, await send(method, url, probes.good, lacking(permission)), anonymousAllowed ? undefined : (s) => s === 403);
      if (probes.restricted) {
        const { probe, permission: needed } = probes.restricted;
        check(`restricted, anonymous`, await send(method, url, probe), (s) => s === 401 || s === 403);
        check(`restricted, lacking ${needed}`, await send(method, url, probe, lacking(needed)), (s) => s === 403);
        check(`restricted, with ${needed}`, await send(method, url, probe, tokens.get(needed)), (s) => s < 400);
      }
      const good = tokens.get(permission ?? 'admin')!;
      check('with a good token', await send(method, url, probes.good, good), (s) => s < 400 || s === 404);
      if (probes.bad) check('with a bad parameter', await send(method, url, probes.bad, good), (s) => s >= 400 && s < 500);
      // A made-up token is refused wherever it is sent, even where anonymous callers are welcome.
      check('with an invalid token', await send(method, url, probes.good, 'not-a-token'), (s) => s === 401);
      // A body of a type the operation does not take.
      if (op.requestBody) check('with a body of another type', await send(method, url, { ...probes.good, form: undefined, json: undefined, multipart: undefined, raw: { type: 'application/xml', body: '<crash/>' } }, good), (s) => s === 415 || s === 400);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});

