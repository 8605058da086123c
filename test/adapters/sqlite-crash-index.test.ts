import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SQLITE_DIALECT, SqliteCrashIndex } from '../../src/adapters/sqlite-crash-index.js';
import * as queries from '../../src/adapters/crash-index-queries.js';
import type { Aggregation, FacetBucket, SearchQuery } from '../../src/ports/crash-index.js';
import { syntheticCrashes } from '../../bench/search-data.js';
import { crashIndexContract } from './crash-index.contract.js';

crashIndexContract('SQLite', async (options) => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-crash-index-'));
  const index = SqliteCrashIndex.open(join(dir, 'index.sqlite'), { fields: options?.fields });
  return {
    index,
    exec: async (sql) => {
      const db = new Database(join(dir, 'index.sqlite'));
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    dispose: async () => {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite crash index migrations', () => {
  it('migrates a version 1 index, keeping its crashes and rebuilding their daily counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-crash-index-'));
    try {
      const path = join(dir, 'index.sqlite');
      // A database as version 1 left it.
      const db = new Database(path);
      db.exec(`CREATE TABLE schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version));
        INSERT INTO schema_migrations VALUES ('crash_index', 1, 'crashes table', '2025-01-01');
        CREATE TABLE crashes (crash_id TEXT PRIMARY KEY, submitted_at INTEGER NOT NULL, processed_at INTEGER NOT NULL, product TEXT, version TEXT, release_channel TEXT, os_name TEXT, os_version TEXT, cpu_arch TEXT, reason TEXT, address TEXT, signature TEXT, has_errors INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;`);
      const day = Date.UTC(2025, 0, 10);
      const insert = db.prepare('INSERT INTO crashes (crash_id, submitted_at, processed_at, product, signature, os_name) VALUES (?, ?, ?, ?, ?, ?)');
      insert.run('id-1', day + 10, day + 20, 'Old', 'sig_a', 'Linux');
      insert.run('id-2', day + 30, day + 40, 'Old', 'sig_a', 'Linux');
      db.prepare("UPDATE crashes SET cpu_arch = 'amd64', reason = 'SIGSEGV' WHERE crash_id = 'id-1'").run();
      insert.run('id-3', day + 50, day + 60, 'Old', 'sig_b', 'Linux');
      db.close();

      const index = SqliteCrashIndex.open(path);
      expect(await index.schemaVersion()).toBe(5);
      expect(await index.count()).toBe(3);
      const top = await index.topCrashers({ product: 'Old', range: { from: day, to: day + 86_400_000 }, limit: 5 });
      expect(top.crashers.map((c) => [c.signature, c.count])).toEqual([
        ['sig_a', 2],
        ['sig_b', 1],
      ]);
      // The rollups added by migration 3 were rebuilt too: long ranges (whole weeks) and the product list.
      const long = { product: 'Old', range: { from: day - 20 * 86_400_000, to: day + 10 * 86_400_000 }, limit: 5 };
      expect(await index.topCrashers(long)).toEqual(await index.topCrashers(long, 'raw'));
      expect((await index.topCrashers(long)).total).toBe(3);
      expect((await index.productVersions()).map((v) => [v.product, v.count])).toEqual([['Old', 3]]);
      // Migration 4 counted CPU and reason per signature and day from the rows.
      const page = { signature: 'sig_a', range: long.range, facets: ['cpu_arch', 'reason'], facetsSize: 5, allowProtected: false };
      expect((await index.signatureSummary(page)).facets).toEqual({ cpu_arch: [{ term: 'amd64', count: 1 }], reason: [{ term: 'SIGSEGV', count: 1 }] });
      expect(await index.signatureSummary(page)).toEqual(await index.signatureSummary(page, 'raw'));
      await index.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite crash index: bounded work', () => {
  const end = Date.UTC(2025, 0, 15);
  const crashes = [...syntheticCrashes({ count: 400, days: 7, end, signatures: 60, seed: 3 })];
  const base: SearchQuery = { filters: [], columns: [], sort: [], limit: 0, offset: 0, aggregations: {}, allowProtected: false };

  it('answers nested aggregations with one statement per aggregation, however many buckets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-crash-index-'));
    const index = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
    const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
    try {
      await index.upsertMany(crashes);
      const statements: string[] = [];
      const run: queries.RunQuery = async (sql, params) => {
        statements.push(sql);
        return db.prepare(sql).all(...params) as queries.Row[];
      };
      // Every crash is a bucket of the first level, and each has five nested aggregations (one two levels down).
      const subs: Aggregation[] = [
        { kind: 'terms', field: 'uuid', size: 10 },
        { kind: 'terms', field: 'modules_in_stack', size: 10, sub: [{ kind: 'cardinality', field: 'signature' }] },
        { kind: 'histogram', field: 'submitted_timestamp', interval: 3_600_000 },
        { kind: 'cardinality', field: 'os_name' },
      ];
      const result = await queries.search(SQLITE_DIALECT, run, { ...base, aggregations: { uuid: { kind: 'terms', field: 'uuid', size: 10_000, sub: subs } } });
      const buckets = result.facets.uuid as FacetBucket[];
      expect(buckets).toHaveLength(crashes.length);
      for (const bucket of buckets) expect((bucket.facets!.uuid as FacetBucket[]).map((b) => b.term)).toEqual([bucket.term]);
      // The count, the first level, and one statement for each of the five nested aggregations.
      expect(statements).toHaveLength(1 + 1 + 5);
    } finally {
      db.close();
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops a statement whose regular expression matching runs past its time limit, with a SearchError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-crash-index-'));
    const index = SqliteCrashIndex.open(join(dir, 'index.sqlite'), { regexTimeLimitMs: 0 });
    try {
      await index.upsertMany(crashes);
      const regex = { ...base, filters: [{ field: 'signature', operator: 'regex' as const, values: ['.*::.*'], negated: false }] };
      await expect(index.search(regex)).rejects.toThrow(/regular expression search took more than 0 s/);
      // Other statements, and the next ones, are not affected.
      expect((await index.search(base)).total).toBe(crashes.length);
      const plain = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
      try {
        expect((await plain.search(regex)).total).toBe(crashes.filter((c) => String(c.signature).includes('::')).length);
      } finally {
        await plain.close();
      }
    } finally {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
