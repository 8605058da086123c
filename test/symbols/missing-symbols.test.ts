import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SqliteMissingSymbolsLog } from '../../src/adapters/sqlite-missing-symbols.js';
import type { RawCrash } from '../../src/ports/raw-crash-store.js';
import { missingSymbolsRule } from '../../src/roles/processor/missing-symbols-rule.js';
import { rulesets } from '../../src/roles/processor/rules.js';
import type { ProcessingContext, Rule } from '../../src/roles/processor/rule.js';
import { csvField } from '../../src/roles/symbols/missing-symbols-report.js';
import { ID, startSymbolsApp, type SymbolsApp } from './support.js';

const DAY = 86_400_000;
const mod = (debugFile: string, extra: Partial<{ codeFile: string; codeId: string }> = {}) => ({ debugFile, debugId: ID, codeFile: extra.codeFile ?? debugFile, codeId: extra.codeId ?? 'C0DE' });

// The log itself (both databases) is tested by test/adapters/missing-symbols.contract.ts.

function context(jsonDump: unknown): ProcessingContext {
  const raw = { uuid: 'c1', submitted_timestamp: '2026-01-02T03:04:05.000Z', annotations: {}, metadata: {} } as unknown as RawCrash;
  return { crashId: 'c1', raw, annotations: {}, dumps: new Map(), processed: { json_dump: jsonDump, os_name: 'Linux', cpu_arch: 'amd64' }, notes: [], startedAt: new Date() };
}

describe('missingSymbolsRule', () => {
  it('records the modules marked missing_symbols that have a debug file and id, once each', async () => {
    const log = SqliteMissingSymbolsLog.open(':memory:');
    await missingSymbolsRule(log).act(
      context({
        modules: [
          { filename: 'app', debug_file: 'app', debug_id: ID, code_id: 'AB', missing_symbols: true },
          { filename: 'app', debug_file: 'app', debug_id: ID, code_id: 'AB', missing_symbols: true },
          { filename: 'libc.so.6', debug_file: 'libc.so.6', debug_id: ID, missing_symbols: false, loaded_symbols: true },
          { filename: 'anon', debug_file: '', debug_id: '', missing_symbols: true },
        ],
      }),
    );
    const rows = await log.list({ since: 0, limit: 10 });
    expect(rows).toEqual([expect.objectContaining({ debugFile: 'app', codeFile: 'app', codeId: 'AB', crashCount: 1, os: 'Linux', lastSeen: Date.parse('2026-01-02T03:04:05.000Z') })]);
    await log.close();
  });

  it('joins only the rulesets that stackwalk', () => {
    const log = SqliteMissingSymbolsLog.open(':memory:');
    const sets = rulesets(async () => ({ jsonDump: {}, errors: [] }), { missingSymbolsLog: log });
    const names = (set: string) => sets.get(set)!.rules.map((x) => x.name);
    expect(names('default')).toContain('missing symbols');
    expect(names('default').indexOf('missing symbols')).toBeGreaterThan(names('default').indexOf('stackwalk'));
    expect(names('signature')).not.toContain('missing symbols');
    expect(rulesets(async () => ({ jsonDump: {}, errors: [] })).get('default')!.rules.map((x) => x.name)).not.toContain('missing symbols');
    void log.close();
  });
});

describe('missing-symbols API, page and reprocessing', () => {
  let s: SymbolsApp;
  beforeEach(async () => {
    s = await startSymbolsApp();
    const now = Date.now();
    await s.missing.record({ crashId: 'c1', submittedAt: now, os: 'Linux', cpu: 'amd64' }, [mod('liba.so'), mod('=cmd|evil', { codeFile: '<script>x</script>' })]);
    await s.missing.record({ crashId: 'c2', submittedAt: now - 2 * DAY, os: 'Linux', cpu: 'amd64' }, [mod('liba.so')]);
  });
  afterEach(() => s.close());

  it('answers JSON, most frequent first, within ?days', async () => {
    const all = (await s.app.inject('/api/MissingSymbols/?days=7')).json();
    expect(all.hits.map((h: { debug_file: string; crash_count: number }) => [h.debug_file, h.crash_count])).toEqual([['liba.so', 2], ['=cmd|evil', 1]]);
    const recent = (await s.app.inject('/api/MissingSymbols/?days=1')).json();
    expect(recent.hits).toHaveLength(2);
    expect(recent.hits.find((h: { debug_file: string }) => h.debug_file === 'liba.so')).toMatchObject({ debug_file: 'liba.so', crash_count: 1, debug_id: ID, code_file: 'liba.so', code_id: 'C0DE' });
    expect((await s.app.inject('/api/MissingSymbols/?days=0')).statusCode).toBe(400);
    expect((await s.app.inject('/api/MissingSymbols/?format=xml')).statusCode).toBe(400);
  });

  it('exports CSV with Socorro\'s columns first, escaped against formulas', async () => {
    const response = await s.app.inject('/api/MissingSymbols/?format=csv');
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const lines = response.body.trim().split('\r\n');
    expect(lines[0]).toBe('debug_file,debug_id,code_file,code_id,os,cpu,crash_count,last_seen');
    expect(lines[1].startsWith(`liba.so,${ID},liba.so,C0DE,Linux,amd64,2,`)).toBe(true);
    expect(lines[2].startsWith(`'=cmd|evil,`)).toBe(true);
    expect(csvField('a,"b"')).toBe('"a,""b"""');
  });

  it('shows an HTML page with the names escaped', async () => {
    const response = await s.app.inject('/missing-symbols/');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('liba.so');
    expect(response.body).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(response.body).not.toContain('<script>x');
  });

  it('re-queues the crashes that missed a module, with the reprocess permission', async () => {
    const payload = { debug_file: 'liba.so', debug_id: ID, days: 1 };
    expect((await s.app.inject({ method: 'POST', url: '/api/ReprocessMissingSymbols/', payload })).statusCode).toBe(401);
    expect((await s.app.inject({ method: 'POST', url: '/api/ReprocessMissingSymbols/', payload, headers: { 'auth-token': await s.token(['upload_symbols']) } })).statusCode).toBe(403);
    const response = await s.app.inject({ method: 'POST', url: '/api/ReprocessMissingSymbols/', payload, headers: { 'auth-token': await s.token(['reprocess']) } });
    expect(response.json()).toMatchObject({ queued: 1, crash_ids: ['c1'] });
    expect(await s.queued()).toEqual([{ crashId: 'c1', queue: 'reprocessing' }]);
    const wider = await s.app.inject({ method: 'POST', url: '/api/ReprocessMissingSymbols/', payload: { ...payload, days: 3 }, headers: { 'auth-token': await s.token(['reprocess']) } });
    expect(wider.json().crash_ids).toEqual(['c1', 'c2']);
    const bad = await s.app.inject({ method: 'POST', url: '/api/ReprocessMissingSymbols/', payload: { debug_file: 'liba.so' }, headers: { 'auth-token': await s.token(['reprocess']) } });
    expect(bad.statusCode).toBe(400);
  });
});
