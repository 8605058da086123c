/**
 * An application's own annotations as fields (issue 14), on a real all-in-one node: the
 * fields are declared in the node's INI text, crashes come in through `POST /submit`, the
 * processor types them, the crash index keeps them, and Super Search filters, facets and
 * sorts on them. A protected declared field is hidden from anonymous viewers everywhere
 * (Super Search hits, facets, filters, the processed and raw crash APIs, the report and
 * search pages), listed (marked) in the field list and the data dictionary, and seen with a
 * `view_protected` token; `/api/SuperSearchUnredacted/` needs that permission. A field
 * declared later is picked up by reprocessing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqliteTokenStore } from '../../../src/auth/token-store.js';
import { loadConfig } from '../../../src/config/load.js';
import { startNode, type RunningNode } from '../../../src/node/node.js';

const FIELDS_INI = `
[annotations.fields.gpu_vendor]
; the annotation that feeds it
annotation = GPUVendor
type = keyword
protected = false
description = GPU vendor reported by the app

[annotations.fields.gpu_memory]
annotation = GPUMemoryMB
type = integer
description = <b>Video memory</b> in MB

[annotations.fields.account_id]
annotation = AccountID
type = keyword
protected = true
description = The customer account that crashed
`;
const LATER_INI = `${FIELDS_INI}
[annotations.fields.build_flavor]
annotation = BuildFlavor
type = keyword
description = Build flavor (declared after the crashes came in)
`;

const SUBMISSIONS: readonly Record<string, string>[] = [
  { GPUVendor: 'NVIDIA', GPUMemoryMB: '4096', AccountID: 'acct-secret-1', BuildFlavor: 'debug' },
  { GPUVendor: 'AMD', GPUMemoryMB: '2048', AccountID: 'acct-secret-2', BuildFlavor: 'release' },
  { GPUVendor: 'NVIDIA', GPUMemoryMB: '8192', AccountID: 'acct-secret-1', BuildFlavor: 'release' },
  { GPUVendor: 'Intel', AccountID: 'acct-secret-3' },
];

let dir: string;
let node: RunningNode;
const ids: string[] = [];
let viewProtected: string;
let reprocess: string;

async function start(ini: string): Promise<RunningNode> {
  const { config, findings } = loadConfig({
    file: { name: 'node.ini', text: ini },
    env: {},
    overrides: {
      'node.data_dir': dir,
      'web.port': '0',
      'web.host': '127.0.0.1',
      'node.roles': 'collector, processor, web',
      'web.api_rate_limit': '0',
      'processor.workers': '1',
      'processor.poll_interval': '50ms',
    },
  });
  if (!config) throw new Error(JSON.stringify(findings));
  return startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
}

async function submit(annotations: Record<string, string>): Promise<string> {
  const form = new FormData();
  form.append('ProductName', 'Example');
  form.append('Version', '2.1');
  for (const [name, value] of Object.entries(annotations)) form.append(name, value);
  const response = await fetch(`${node.url}/submit`, { method: 'POST', body: form });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return /CrashID=bp-([0-9a-f-]+)/.exec(text)![1]!;
}

async function get(url: string, token?: string): Promise<{ status: number; body: string; json: () => Record<string, unknown> }> {
  const response = await fetch(`${node.url}${url}`, { headers: token ? { 'auth-token': token } : {} });
  const body = await response.text();
  return { status: response.status, body, json: () => JSON.parse(body) as Record<string, unknown> };
}

/** Waits until every crash is processed (and so indexed). */
async function processed(crashIds: readonly string[], check: (crash: Record<string, unknown>) => boolean = () => true): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const id of crashIds) {
    for (;;) {
      const answer = await get(`/api/ProcessedCrash/?crash_id=${id}`, viewProtected);
      if (answer.status === 200 && check(answer.json())) break;
      if (Date.now() > deadline) throw new Error(`crash ${id} was not processed in time (${answer.status})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const search = (query: string, token?: string) => get(`/api/SuperSearch/?${query}`, token);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-declared-fields-'));
  node = await start(FIELDS_INI);
  const store = SqliteTokenStore.open(path.join(node.paths.dataDir, 'mayday.sqlite'));
  viewProtected = (await store.create({ user: 'triager', permissions: ['view_protected'] })).token;
  reprocess = (await store.create({ user: 'operator', permissions: ['reprocess'] })).token;
  await store.close();
  for (const annotations of SUBMISSIONS) ids.push(await submit(annotations));
  await processed(ids);
}, 90_000);
afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('declared annotation fields, submitted and processed', () => {
  it('are typed into the processed crash', async () => {
    const crash = (await get(`/api/ProcessedCrash/?crash_id=${ids[0]}`)).json();
    expect(crash).toMatchObject({ gpu_vendor: 'NVIDIA', gpu_memory: 4096 });
    // Not declared (yet): stays an annotation only.
    expect(crash.build_flavor).toBeUndefined();
  });

  it('are filterable (is, contains, negation, integer range) and sortable through /api/SuperSearch/', async () => {
    const uuids = async (query: string): Promise<string[]> => {
      const answer = await search(`product=Example&_columns=uuid&_sort=uuid&${query}`);
      expect(answer.status, answer.body).toBe(200);
      return (answer.json().hits as { uuid: string }[]).map((h) => h.uuid);
    };
    const sorted = (...indexes: number[]): string[] => indexes.map((i) => ids[i]!).sort();
    expect(await uuids('gpu_vendor=NVIDIA')).toEqual(sorted(0, 2));
    expect(await uuids('gpu_vendor=~nte')).toEqual(sorted(3));
    expect(await uuids('gpu_vendor=!NVIDIA')).toEqual(sorted(1, 3));
    expect(await uuids('gpu_memory=>=4096')).toEqual(sorted(0, 2));
    expect(await uuids('gpu_memory=>2048&gpu_memory=<8192')).toEqual(sorted(0));
    expect(await uuids('gpu_memory=__null__')).toEqual(sorted(3));
    const bySize = await search('product=Example&_columns=uuid,gpu_memory,gpu_vendor&_sort=-gpu_memory');
    expect((bySize.json().hits as Record<string, unknown>[]).map((h) => h.gpu_memory)).toEqual([null, 8192, 4096, 2048]);
    expect((bySize.json().hits as Record<string, unknown>[])[1]).toEqual({ uuid: ids[2], gpu_memory: 8192, gpu_vendor: 'NVIDIA' });
    const refused = await search('gpu_memory=lots');
    expect(refused.status).toBe(400);
    expect(refused.json().error).toMatch(/not a valid number/);
  });

  it('are facetable', async () => {
    const answer = await search('product=Example&_facets=gpu_vendor&_facets=gpu_memory&_results_number=0');
    expect(answer.status, answer.body).toBe(200);
    const facets = answer.json().facets as Record<string, { term: unknown; count: number }[]>;
    expect(facets.gpu_vendor).toEqual([
      { term: 'NVIDIA', count: 2 },
      { term: 'AMD', count: 1 },
      { term: 'Intel', count: 1 },
    ]);
    expect(facets.gpu_memory.map((b) => b.term).sort()).toEqual([2048, 4096, 8192]);
  });

  it('are searchable and facetable on the Super Search page, and offered in its field list', async () => {
    const page = await get('/search/?gpu_vendor=NVIDIA&_facets=gpu_vendor&_columns=uuid,gpu_vendor');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<option value="gpu_vendor">');
    expect(page.body).toContain('2 crashes');
    expect(page.body).toMatch(/data-facet="gpu_vendor"/);
    expect(page.body).toContain('href="/documentation/datadictionary/"');
  });

  it('are listed with their description, type and protection in /api/SuperSearchFields/', async () => {
    const fields = (await get('/api/SuperSearchFields/')).json() as Record<string, Record<string, unknown>>;
    expect(fields.gpu_vendor).toMatchObject({ name: 'gpu_vendor', description: 'GPU vendor reported by the app', type: 'keyword', query_type: 'string', is_protected: false, is_custom: true, permissions_needed: [], source_annotations: ['GPUVendor'] });
    expect(fields.gpu_memory).toMatchObject({ type: 'integer', query_type: 'number', is_custom: true });
    // Protected fields are listed (that they exist is no secret), with the permission they need.
    expect(fields.account_id).toMatchObject({ description: 'The customer account that crashed', is_protected: true, permissions_needed: ['crashstats.view_pii'], is_custom: true });
    expect(fields.signature).toMatchObject({ is_custom: false });
  });

  it('are documented as Super Search parameters in the OpenAPI document', async () => {
    const document = (await get('/api/openapi.json')).json() as { paths: Record<string, { get: { parameters: { name: string; description: string; 'x-permission'?: string }[] } }> };
    const parameters = document.paths['/api/SuperSearch/'].get.parameters;
    expect(parameters.find((p) => p.name === 'gpu_vendor')?.description).toContain('GPU vendor reported by the app');
    expect(parameters.find((p) => p.name === 'account_id')).toMatchObject({ 'x-permission': 'view_protected' });
  });

  it('are shown in the data dictionary, built-in fields too, protected ones marked, descriptions escaped', async () => {
    const page = await get('/documentation/datadictionary/');
    expect(page.status).toBe(200);
    const row = (name: string): string => new RegExp(`<tr id="field-${name}"[\\s\\S]*?</tr>`).exec(page.body)?.[0] ?? '';
    expect(row('gpu_vendor')).toContain('GPU vendor reported by the app');
    expect(row('gpu_vendor')).toContain('GPUVendor');
    expect(row('gpu_vendor')).toContain('declared');
    expect(row('gpu_vendor')).not.toContain('badge err');
    expect(row('account_id')).toContain('protected');
    expect(row('account_id')).toContain('badge err');
    expect(row('email')).toContain('badge err');
    expect(row('signature')).toContain('Crash signature');
    expect(row('json_dump')).toMatch(/<span class="muted">no<\/span>/);
    expect(page.body).toContain('&lt;b&gt;Video memory&lt;/b&gt;');
    expect(page.body).not.toContain('<b>Video memory</b>');
    expect((await get('/search/')).body).toContain('href="/documentation/datadictionary/"');
  });
});

describe('a protected declared field', () => {
  const SECRET = /acct-secret/;

  it('is refused to anonymous viewers wherever Super Search names it, and left out of default answers', async () => {
    for (const query of ['account_id=acct-secret-1', '_columns=uuid,account_id', '_facets=account_id', '_sort=account_id', '_aggs.gpu_vendor=account_id', 'account_id=__null__']) {
      const answer = await search(`product=Example&${query}`);
      expect(answer.status, query).toBe(403);
      expect(answer.json().error).toMatch(/protected/);
    }
    const all = await search('product=Example&_facets=gpu_vendor');
    expect(all.status).toBe(200);
    expect(all.body).not.toMatch(SECRET);
    expect(all.body).not.toContain('account_id');
    expect((await get('/search/?account_id=acct-secret-1')).status).toBe(403);
    const page = await get('/search/?product=Example&_columns=uuid,gpu_vendor');
    expect(page.body).not.toContain('<option value="account_id">');
  });

  it('is hidden from the processed crash, the raw crash and the report page for anonymous viewers', async () => {
    const processedCrash = await get(`/api/ProcessedCrash/?crash_id=${ids[0]}`);
    expect(processedCrash.json().gpu_vendor).toBe('NVIDIA');
    expect(processedCrash.json()).not.toHaveProperty('account_id');
    expect(processedCrash.body).not.toMatch(SECRET);
    const raw = await get(`/api/RawCrash/?crash_id=${ids[0]}`);
    expect(raw.json().GPUVendor).toBe('NVIDIA');
    expect(raw.json()).not.toHaveProperty('AccountID');
    expect(raw.body).not.toMatch(SECRET);
    const report = await get(`/report/index/${ids[0]}`);
    expect(report.status).toBe(200);
    expect(report.body).toContain('NVIDIA');
    expect(report.body).not.toMatch(SECRET);
  });

  it('is seen by a view_protected token everywhere', async () => {
    const filtered = await search('product=Example&account_id=acct-secret-1&_columns=uuid,account_id&_facets=account_id&_sort=uuid', viewProtected);
    expect(filtered.status, filtered.body).toBe(200);
    expect(filtered.json().hits).toEqual([ids[0], ids[2]].sort().map((uuid) => ({ uuid, account_id: 'acct-secret-1' })));
    expect((filtered.json().facets as Record<string, unknown>).account_id).toEqual([{ term: 'acct-secret-1', count: 2 }]);
    expect((await get(`/api/ProcessedCrash/?crash_id=${ids[0]}`, viewProtected)).json().account_id).toBe('acct-secret-1');
    const raw = (await get(`/api/RawCrash/?crash_id=${ids[0]}`, viewProtected)).json();
    expect(raw.AccountID).toBe('acct-secret-1');
    // The collector recorded it as protected when the crash came in.
    expect((raw.metadata as { protected_annotations?: string[] }).protected_annotations).toContain('AccountID');
    expect((await get(`/report/index/${ids[0]}`, viewProtected)).body).toContain('acct-secret-1');
    expect((await get('/search/', viewProtected)).body).toContain('<option value="account_id">');
  });
});

describe('/api/SuperSearchUnredacted/', () => {
  it('needs view_protected: 401 anonymous, 403 without the permission', async () => {
    const anonymous = await get('/api/SuperSearchUnredacted/?product=Example');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).not.toMatch(SECRET_OR_HITS);
    const without = await get('/api/SuperSearchUnredacted/?product=Example', reprocess);
    expect(without.status).toBe(403);
    expect(without.body).not.toMatch(SECRET_OR_HITS);
  });

  it('answers Super Search with protected fields for view_protected', async () => {
    const answer = await get('/api/SuperSearchUnredacted/?product=Example&_columns=uuid,account_id,gpu_vendor&_sort=uuid&_facets=account_id', viewProtected);
    expect(answer.status, answer.body).toBe(200);
    expect(answer.json().total).toBe(SUBMISSIONS.length);
    expect((answer.json().hits as Record<string, unknown>[]).map((h) => h.account_id)).toEqual(
      ids.map((id, i) => [id, SUBMISSIONS[i]!.AccountID] as const).sort(([a], [b]) => (a < b ? -1 : 1)).map(([, account]) => account),
    );
    expect(answer.json().facets).toHaveProperty('account_id');
    const redacted = await search('product=Example&_columns=uuid,gpu_vendor', viewProtected);
    expect(redacted.status).toBe(200);
  });
});

const SECRET_OR_HITS = /acct-secret|"hits"/;

describe('a field declared after the crashes came in', () => {
  it('is unknown until declared, then filled by reprocessing', async () => {
    expect((await search('build_flavor=release')).status).toBe(400);
    await node.close();
    node = await start(LATER_INI);
    const fields = (await get('/api/SuperSearchFields/')).json() as Record<string, unknown>;
    expect(fields).toHaveProperty('build_flavor');
    // Declared, but the stored crashes were processed without it.
    expect((await search('product=Example&build_flavor=release')).json().total).toBe(0);
    const body = new URLSearchParams();
    for (const id of ids) body.append('crash_ids', id);
    const queued = await fetch(`${node.url}/api/Reprocessing/`, { method: 'POST', headers: { 'auth-token': reprocess, 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(queued.status, await queued.text()).toBe(200);
    await processed(ids.slice(0, 3), (crash) => crash.build_flavor !== undefined);
    const answer = await search('product=Example&build_flavor=release&_columns=uuid&_sort=uuid&_facets=build_flavor');
    expect(answer.json().hits).toEqual([ids[1], ids[2]].sort().map((uuid) => ({ uuid })));
    expect((answer.json().facets as Record<string, unknown>).build_flavor).toEqual([{ term: 'release', count: 2 }]);
  }, 60_000);
});
