import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgCrashIndex } from '../../src/adapters/pg-crash-index.js';
import type { SearchQuery } from '../../src/ports/crash-index.js';
import { syntheticCrashes } from '../../bench/search-data.js';
import { crashIndexContract } from './crash-index.contract.js';
import { dropSchema, pgSkip, pgUrl } from './pg-support.js';

/**
 * The crash index contract on PostgreSQL. With MAYDAY_TEST_POSTGRES_URL set (CI sets it),
 * the server must answer: a connection failure fails the tests. Without it, a server on
 * the default local address is used if one answers, else the suite is skipped.
 */
const url = pgUrl;
const skip = pgSkip;

crashIndexContract(
  'PostgreSQL',
  async (options) => {
    // A schema of its own per run: parallel runs never see each other's rows.
    const schema = `mayday_test_${randomBytes(6).toString('hex')}`;
    const index = await PgCrashIndex.open({ connectionString: url, schema, fields: options?.fields });
    return {
      index,
      exec: async (sql) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`SET search_path = ${schema}; ${sql}`);
        } finally {
          await client.end();
        }
      },
      dispose: async () => {
        await index.close();
        await dropSchema(schema);
      },
    };
  },
  skip,
);

describe.skipIf(skip !== false)(`PostgreSQL crash index migrations${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('migrates a version 1 index, rebuilding the rollups from its daily counts', async () => {
    const schema = `mayday_test_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // A database as version 1 left it (the columns the later migrations index, and the daily counts).
      await client.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema};
        CREATE TABLE schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version));
        INSERT INTO schema_migrations VALUES ('crash_index', 1, 'v1', '2025-01-01');
        CREATE TABLE crashes (crash_id TEXT COLLATE "C" PRIMARY KEY, submitted_at BIGINT NOT NULL, processed_at BIGINT NOT NULL, product TEXT COLLATE "C", version TEXT COLLATE "C",
          os_name TEXT COLLATE "C", cpu_arch TEXT COLLATE "C", reason TEXT COLLATE "C", signature TEXT COLLATE "C", process_type TEXT COLLATE "C", report_type TEXT COLLATE "C", build_id TEXT COLLATE "C", uptime BIGINT, has_errors SMALLINT NOT NULL DEFAULT 0, doc JSONB NOT NULL DEFAULT '{}');
        CREATE INDEX crashes_signature ON crashes (signature, submitted_at);
        CREATE INDEX crashes_product_submitted ON crashes (product, submitted_at);
        CREATE TABLE signature_daily (product TEXT COLLATE "C" NOT NULL, day INTEGER NOT NULL, signature TEXT COLLATE "C" NOT NULL, version TEXT COLLATE "C" NOT NULL,
          os_name TEXT COLLATE "C" NOT NULL, process_type TEXT COLLATE "C" NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (product, day, signature, version, os_name, process_type));`);
      const day = Date.UTC(2025, 0, 10);
      const rows = [
        ['id-1', day + 10, '1.0', 'sig_a', 'Linux'],
        ['id-2', day - 9 * 86_400_000, '1.0', 'sig_a', 'Windows NT'],
        ['id-3', day + 50, '2.0', 'sig_b', 'Linux'],
      ] as const;
      for (const [id, at, version, signature, os] of rows) {
        await client.query(`INSERT INTO crashes (crash_id, submitted_at, processed_at, product, version, signature, os_name, process_type) VALUES ($1, $2, $2, 'Old', $3, $4, $5, 'parent')`, [id, at, version, signature, os]);
        await client.query(`INSERT INTO signature_daily VALUES ('Old', $1, $2, $3, $4, 'parent', 1)`, [Math.floor(at / 86_400_000), signature, version, os]);
      }
      const index = await PgCrashIndex.open({ connectionString: url, schema });
      try {
        expect(await index.schemaVersion()).toBe(5);
        // Version 3 moved the rows into one partition per day.
        expect(await index.daysBefore(Infinity)).toEqual([...new Set(rows.map(([, at]) => Math.floor(at / 86_400_000)))].sort((a, b) => a - b));
        const long = { product: 'Old', range: { from: day - 20 * 86_400_000, to: day + 10 * 86_400_000 }, limit: 5 };
        const top = await index.topCrashers(long);
        expect(top.crashers.map((c) => [c.signature, c.count, c.platforms])).toEqual([
          ['sig_a', 2, { Linux: 1, 'Windows NT': 1 }],
          ['sig_b', 1, { Linux: 1 }],
        ]);
        expect(top).toEqual(await index.topCrashers(long, 'raw'));
        // Version 4 counted CPU and reason per signature and day from the rows.
        const page = { signature: 'sig_a', range: long.range, facets: ['cpu_arch', 'reason'], facetsSize: 5, allowProtected: false };
        expect(await index.signatureSummary(page)).toEqual(await index.signatureSummary(page, 'raw'));
        expect((await index.productVersions()).map((v) => [v.version, v.count])).toEqual([
          ['2.0', 1],
          ['1.0', 2],
        ]);
      } finally {
        await index.close();
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});

describe.skipIf(skip !== false)(`PostgreSQL crash index statement timeout${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('cancels reads that run past statementTimeoutMs with a SearchError; writes are not limited', async () => {
    const schema = `mayday_test_${randomBytes(6).toString('hex')}`;
    const index = await PgCrashIndex.open({ connectionString: url, schema, statementTimeoutMs: 1 });
    try {
      const end = Date.UTC(2025, 0, 15);
      // Thousands of rows written under a 1 ms limit: writes lift it.
      const crashes = [...syntheticCrashes({ count: 4000, days: 7, end, signatures: 200, seed: 9 })];
      await index.upsertMany(crashes);
      await index.analyze();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        expect(Number((await client.query(`SELECT COUNT(*) AS n FROM ${schema}.crashes`)).rows[0].n)).toBe(crashes.length);
      } finally {
        await client.end();
      }
      // A read that takes longer than 1 ms (a regex over every row, twice nested facets) is cancelled and refused.
      const slow = {
        filters: [{ field: 'signature', operator: 'regex' as const, values: ['(.*){8}::.*'], negated: true }],
        columns: ['uuid'],
        sort: [],
        limit: 100,
        offset: 0,
        aggregations: { signature: { kind: 'terms' as const, field: 'signature', size: 1000, sub: [{ kind: 'terms' as const, field: 'modules_in_stack', size: 100 }] } },
        allowProtected: false,
      };
      await expect(index.search(slow)).rejects.toThrow(/took more than 0.001 s and was stopped/);
    } finally {
      await index.close();
      await dropSchema(schema);
    }
  });
});

/** Crashes whose `field` is `value`, with `columns`. */
function lookup(field: string, value: string, columns: string[]): SearchQuery {
  return { filters: [{ field, operator: 'is', values: [value], negated: false }], columns, sort: [], limit: 10, offset: 0, aggregations: {}, allowProtected: true };
}

describe.skipIf(skip !== false)(`PostgreSQL crash index and NUL characters${skip ? ` (skipped: ${skip})` : ''}`, () => {
  // PostgreSQL's text and jsonb refuse U+0000; a dump's strings can hold it, and such a
  // crash failed to index at all.
  it('indexes a crash whose strings hold NUL, with U+FFFD in their place, and finds it by them', async () => {
    const schema = `mayday_test_${randomBytes(6).toString('hex')}`;
    const index = await PgCrashIndex.open({ connectionString: url, schema });
    try {
      const [crash] = [...syntheticCrashes({ count: 1, days: 1, end: Date.UTC(2025, 0, 15), signatures: 1, seed: 3 })];
      const withNul = { ...crash!, signature: 'crash\0here', product: 'Nul\0Product', user_comments: 'a\0b' };
      await index.upsertMany([withNul]);
      const result = await index.search(lookup('uuid', crash!.uuid, ['uuid', 'signature', 'product']));
      expect(result.hits).toEqual([{ uuid: crash!.uuid, signature: 'crash\uFFFDhere', product: 'Nul\uFFFDProduct' }]);
      // A NUL in a search is not a database error (a 500) either: it finds what was stored.
      const bySignature = await index.search(lookup('signature', 'crash\0here', ['uuid']));
      expect(bySignature.hits).toEqual([{ uuid: crash!.uuid }]);
    } finally {
      await index.close();
      await dropSchema(schema);
    }
  });
});
