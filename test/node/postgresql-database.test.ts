/**
 * A node on PostgreSQL (database.backend = postgresql): the crash index, the node registry,
 * accounts and tokens, the missing-symbols log and the scheduler's ledger all live there,
 * on one pool per node; a second node on the same database sees what the first wrote.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node/node.js';
import { PgBugLinks } from '../../src/adapters/pg-bug-links.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from '../adapters/pg-support.js';
import { eventually } from '../support/mayday-process.js';
import { OTHER_DUMP, copyCorpusSymbols, processedCrash, startTestNode, submit } from './stackwalk-fixtures.js';

describe.skipIf(pgSkip !== false)(`a node on PostgreSQL${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  let dir: string;
  const schema = freshSchema();
  const nodes: RunningNode[] = [];
  const database = { 'database.backend': 'postgresql', 'database.url': pgUrl, 'database.schema': schema, 'database.pool_size': '5' };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayday-pg-node-'));
    copyCorpusSymbols(join(dir, 'symbols'), { withApp: true });
  });
  afterAll(async () => {
    for (const node of nodes) await node.close();
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('processes and indexes a crash with every database store on PostgreSQL, within the pool size', async () => {
    const node = await startTestNode(dir, { ...database, 'scheduler.tick_interval': '100ms' });
    nodes.push(node);
    const crashId = await submit(node, readFileSync(OTHER_DUMP));
    const crash = await processedCrash(node, crashId);
    expect(crash.success).toBe(true);
    const search = await eventually(async () => {
      const body = (await (await fetch(`${node.url}/api/SuperSearch/?uuid=${crashId}`)).json()) as { total: number };
      return body.total === 1 ? body : undefined;
    }, 10_000, 'the crash in the index');
    expect(search.total).toBe(1);
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const tables = (await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])).rows.map((r) => r.table_name);
      expect(tables).toEqual(expect.arrayContaining(['crashes', 'registry_nodes', 'status_samples', 'scheduler_jobs', 'scheduler_runs', 'schema_migrations', 'bug_links']));
      // The node's connections: one pool of at most database.pool_size for all of its stores.
      const connections = (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%' AND application_name = ''")).rows[0].n;
      expect(connections).toBeLessThanOrEqual(5 + 1);
    } finally {
      await client.end();
    }
    const doc = await eventually(async () => {
      const d = (await (await fetch(`${node.url}/api/ops/jobs`)).json()) as { jobs: { job: string; runs: number }[] };
      return d.jobs.find((j) => j.job === 'verify-processed' && j.runs > 0) ? d : undefined;
    }, 10_000, 'verify-processed recorded on PostgreSQL');
    expect(doc.jobs.find((j) => j.job === 'verify-processed')!.runs).toBe(1);
  });

  it('lets a second node on the same database see the first: its status lists the first one\'s processor, and it reads the same index', async () => {
    const second = await startTestNode(mkdtempSync(join(tmpdir(), 'mayday-pg-node-b-')), { ...database, 'node.roles': 'web', 'node.name': 'second-web' });
    nodes.push(second);
    const status = await eventually(async () => {
      const text = JSON.stringify(await (await fetch(`${second.url}/status/json`)).json());
      return text.includes('mayday@') ? text : undefined;
    }, 10_000, "the first node's processor in the second node's /status/json");
    expect(status).not.toContain('second-web@');
    const search = (await (await fetch(`${second.url}/api/SuperSearch/?_results_number=0`)).json()) as { total: number };
    expect(search.total).toBe(1);
    // Bug links are shared the same way: one written to the database is served by the web node.
    const links = await PgBugLinks.open({ connectionString: pgUrl, schema });
    await links.add('shared | signature', 'PROJ-1', null);
    await links.close();
    expect(await (await fetch(`${second.url}/api/Bugs/?signatures=${encodeURIComponent('shared | signature')}`)).json()).toEqual({ hits: [{ id: 'PROJ-1', signature: 'shared | signature' }], total: 1 });
  });
});
