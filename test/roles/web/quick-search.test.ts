/**
 * The header box's quick search (issue 14) on a real node: one test per kind of input. The
 * crashes are put where the processor would put them (the processed crash store and the
 * crash index), so the report and signature pages the redirects lead to answer for real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FsProcessedCrashStore } from '../../../src/adapters/fs-processed-crash-store.js';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { createCrashId } from '../../../src/common/crash-id.js';
import { loadConfig } from '../../../src/config/load.js';
import { startNode, type RunningNode } from '../../../src/node/node.js';
import type { ProcessedCrash } from '../../../src/ports/processed-crash-store.js';
import { crashIdIn, QUICK_SEARCH_MAX_LENGTH, quickSearchTarget } from '../../../src/roles/web/quick-search.js';

const SIGNATURE = 'mozilla::dom::Crash | Outer::Run(int)';
const SUBMITTED = new Date();
const ID = createCrashId(SUBMITTED);
/** Well-formed, but never submitted. */
const MISSING = createCrashId(SUBMITTED);

let dir: string;
let node: RunningNode;

function processed(uuid: string, signature: string): ProcessedCrash {
  const submitted = SUBMITTED.toISOString();
  return { uuid, signature, product: 'Example', version: '1.0', os_name: 'Linux', submitted_timestamp: submitted, date_processed: submitted, reason: 'SIGSEGV', processor_notes: '' };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-quick-search-'));
  const { config, findings } = loadConfig({ env: {}, overrides: { 'node.data_dir': dir, 'web.port': '0', 'web.host': '127.0.0.1', 'node.roles': 'web', 'web.api_rate_limit': '0' } });
  if (!config) throw new Error(JSON.stringify(findings));
  node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
  const crash = processed(ID, SIGNATURE);
  const store = await FsProcessedCrashStore.open(node.paths.processed);
  await store.save(crash);
  const index = SqliteCrashIndex.open(node.paths.database);
  await index.upsert(crash);
  await index.close();
}, 60_000);
afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The quick search's answer: its status and where it leads (relative to the node). */
async function quick(q: string | string[] | undefined): Promise<{ status: number; location: string | null; body: string }> {
  const params = new URLSearchParams();
  for (const value of q === undefined ? [] : Array.isArray(q) ? q : [q]) params.append('q', value);
  const response = await fetch(`${node.url}/quick-search?${params.toString()}`, { redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), body: await response.text() };
}

/** Follows a redirect to its page. */
async function follow(location: string | null): Promise<{ status: number; body: string }> {
  const response = await fetch(new URL(location!, node.url));
  return { status: response.status, body: await response.text() };
}

describe('quick search (the header box)', () => {
  it('opens the report of a bare crash id', async () => {
    const answer = await quick(ID);
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`/report/index/${ID}`);
    const report = await follow(answer.location);
    expect(report.status).toBe(200);
    expect(report.body).toContain(ID);
  });

  it('opens the report of a bp- crash id, surrounding spaces trimmed', async () => {
    const answer = await quick(`  bp-${ID}\t`);
    expect(answer).toMatchObject({ status: 303, location: `/report/index/${ID}` });
  });

  it('opens the report of an upper-case id (BP- too)', async () => {
    expect(await quick(ID.toUpperCase())).toMatchObject({ status: 303, location: `/report/index/${ID}` });
    expect(await quick(`BP-${ID.toUpperCase()}`)).toMatchObject({ status: 303, location: `/report/index/${ID}` });
  });

  it('opens the report of a pasted report URL or CrashID line', async () => {
    for (const pasted of [
      `https://crash-stats.example.com/report/index/${ID}`,
      `https://crash-stats.example.com/report/index/bp-${ID.toUpperCase()}?tab=details#frames`,
      `${node.url}/report/index/${ID}`,
      `CrashID=bp-${ID}`,
    ]) {
      expect(await quick(pasted), pasted).toMatchObject({ status: 303, location: `/report/index/${ID}` });
    }
    // Two different ids, or an id inside a longer word, name no report: the words are searched.
    expect((await quick(`https://x.example/${ID}/${MISSING}`)).location).toMatch(/^\/search\/\?signature=~/);
    expect((await quick(`x${ID}`)).location).toMatch(/^\/search\/\?signature=~/);
    expect(crashIdIn(`a ${ID}`)).toBeUndefined();
  });

  it('leads a well-formed id that was never submitted to the report page, which says 404', async () => {
    const answer = await quick(MISSING);
    expect(answer).toMatchObject({ status: 303, location: `/report/index/${MISSING}` });
    const report = await follow(answer.location);
    expect(report.status).toBe(404);
    expect(report.body).toContain(`No crash ${MISSING}`);
  });

  it('opens the signature page of an exact signature', async () => {
    const answer = await quick(` ${SIGNATURE} `);
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`/signature/?signature=${encodeURIComponent(SIGNATURE)}`);
    const signature = await follow(answer.location);
    expect(signature.status).toBe(200);
    expect(signature.body).toContain('mozilla::dom::Crash | Outer::Run(int)');
    // Exact means exact: another case is not that signature.
    expect((await quick(SIGNATURE.toLowerCase())).location).toBe(`/search/?signature=${encodeURIComponent(`~${SIGNATURE.toLowerCase()}`)}`);
  });

  it('searches signatures containing the words otherwise', async () => {
    const answer = await quick('dom::Crash');
    expect(answer).toMatchObject({ status: 303, location: `/search/?signature=${encodeURIComponent('~dom::Crash')}` });
    const search = await follow(answer.location);
    expect(search.status).toBe(200);
    expect(search.body).toContain(ID);
    // Operators typed in the box are words like any other: contains "=Outer".
    expect((await quick('=Outer')).location).toBe(`/search/?signature=${encodeURIComponent('~=Outer')}`);
  });

  it('leads empty input to the Super Search page', async () => {
    for (const q of [undefined, '', '   ', ['', 'second']]) {
      expect(await quick(q), JSON.stringify(q)).toMatchObject({ status: 303, location: '/search/' });
    }
    expect((await follow('/search/')).status).toBe(200);
  });

  it('refuses over-long input with a 400 page and never answers a 5xx to odd input', async () => {
    const long = await quick('x'.repeat(QUICK_SEARCH_MAX_LENGTH + 1));
    expect(long.status).toBe(400);
    expect(long.body).toContain(`at most ${QUICK_SEARCH_MAX_LENGTH}`);
    // At the cap it still searches, padded with spaces it is trimmed first.
    expect((await quick(`  ${'y'.repeat(QUICK_SEARCH_MAX_LENGTH)}  `)).status).toBe(303);

    const odd = ['\u0000', 'a\u0000b', '%', '\uFFFD', '😀 crash', "' OR 1=1 --", '<script>alert(1)</script>', '~', '!', '@(a+)+$', `bp-${'0'.repeat(36)}`, 'bp-', '\\', 'a'.repeat(999) + '!', '-'.repeat(1000)];
    for (const q of odd) {
      const answer = await quick(q);
      expect(answer.status, JSON.stringify(q)).toBe(303);
      const target = await follow(answer.location);
      expect(target.status, `${JSON.stringify(q)} -> ${answer.location}`).toBeLessThan(500);
    }
    // Raw bytes no form would send: invalid UTF-8, a lone surrogate's encoding, repeated and odd keys.
    for (const query of ['q=%ED%A0%80', 'q=%FF%FE', 'q=%', 'q=%E0%A4%A', 'q[]=x', 'q=a&q=b&q=c', `q=${'%20'.repeat(3000)}x`]) {
      const response = await fetch(`${node.url}/quick-search?${query}`, { redirect: 'manual' });
      await response.arrayBuffer();
      expect(response.status, query).toBeLessThan(500);
      const location = response.headers.get('location');
      if (location) expect((await follow(location)).status, `${query} -> ${location}`).toBeLessThan(500);
    }
    // A lone surrogate reaching the classifier is replaced before anything is encoded.
    expect(await quickSearchTarget('a\uD800b', async () => false)).toEqual({ kind: 'contains', words: 'a\uFFFDb' });
  });

  it('puts the quick search box in the header of every page', async () => {
    const home = await (await fetch(`${node.url}/`)).text();
    expect(home).toMatch(/<form method="get" action="\/quick-search"[^>]*><input type="search" name="q"[^>]*placeholder="Crash ID or signature"/);
  });
});
