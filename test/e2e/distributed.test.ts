/**
 * The distributed example deployment (examples/distributed/): a collector, two processors,
 * a web node and a scheduler, each `mayday run --config FILE` in its own process, on
 * PostgreSQL, RabbitMQ and an S3 server started here. Crashes submitted to the collector
 * are processed by both processors, indexed once each, and served by the web node.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakpadBody } from '../../src/cli/commands/submit.js';
import { exampleDeploymentEnv, s3Settings, stopNodes } from '../support/distributed-deployment.js';
import { startS3rver, type LocalS3 } from '../adapters/s3rver-support.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from '../adapters/pg-support.js';
import { CORPUS } from '../support/corpus.js';
import { eventually, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { deleteQueues, rabbitSkip, rabbitUrl } from '../support/rabbitmq.js';

const skip = pgSkip || rabbitSkip;
const NODES = ['web', 'collector', 'processor-1', 'processor-2', 'scheduler'] as const;

describe.skipIf(skip !== false)(`the distributed example: five processes on PostgreSQL, RabbitMQ and S3${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let s3: LocalS3;
  let root: string;
  const schema = freshSchema();
  const prefix = `mayday_test_${randomBytes(4).toString('hex')}.`;
  const running = new Map<string, MaydayProcess>();
  let env: Record<string, string>;

  const config = (node: string) => `examples/distributed/${node}.ini`;
  const envOf = (node: string) => ({ ...env, MAYDAY_NODE_DATA_DIR: join(root, node) });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mayday-distributed-'));
    s3 = await startS3rver('mayday-crashes');
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.options.accessKeyId, secretAccessKey: s3.options.secretAccessKey } });
    await client.send(new CreateBucketCommand({ Bucket: 'mayday-symbols' }));
    client.destroy();
    env = {
      ...exampleDeploymentEnv({ postgresUrl: pgUrl, schema, rabbitUrl, prefix, s3: s3Settings(s3) }),
      MAYDAY_LOG_LEVEL: 'info',
      // The test polls the web node's API faster than a person would.
      MAYDAY_WEB_API_RATE_LIMIT: '100000',
    };
    // The web node first: it creates the tables the others then find.
    for (const node of NODES) running.set(node, await startMayday(['run', '--config', config(node)], envOf(node)));
  }, 120_000);

  afterAll(async () => {
    await stopNodes(running);
    await s3?.dispose();
    if (skip === false) {
      await dropSchema(schema);
      await deleteQueues(prefix);
    }
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('takes crashes at the collector, processes them on both processors once each, and serves them from the web node', async () => {
    const web = running.get('web')!.url;
    const collector = running.get('collector')!.url;
    const token = await runMayday(['tokens', 'create', '--user', 'ci', '--permissions', 'upload_symbols', '--config', config('web')], envOf('web'));
    expect(token.code, token.stderr).toBe(0);
    const upload = await runMayday(['symbols', 'upload', join(CORPUS, 'symbols'), '--url', web, '--token', token.stdout.trim()], envOf('web'));
    expect(upload.code, upload.stderr).toBe(0);

    const dumps = readdirSync(join(CORPUS, 'dumps')).filter((name) => name.endsWith('.dmp'));
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const name of dumps) {
        const body = breakpadBody(readFileSync(join(CORPUS, 'dumps', name)), 'crash.dmp', [['ProductName', 'Example'], ['Version', '1.0']], false);
        const response = await fetch(`${collector}/submit`, { method: 'POST', headers: { 'content-type': body.contentType }, body: body.body });
        const text = await response.text();
        expect(response.status, text).toBe(200);
        ids.push(/^CrashID=bp-(.+)$/m.exec(text)![1]);
      }
    }

    // Every crash indexed exactly once (the facet counts each uuid's rows).
    const search = await eventually(async () => {
      const result = (await (await fetch(`${web}/api/SuperSearch/?_results_number=0&_facets=uuid&_facets_size=1000`)).json()) as { total: number; facets: { uuid: { term: string; count: number }[] } };
      return result.total >= ids.length ? result : undefined;
    }, 90_000, `${ids.length} crashes in the index`);
    expect(search.total).toBe(ids.length);
    expect(search.facets.uuid.map((f) => f.term).sort()).toEqual([...ids].sort());
    expect(search.facets.uuid.every((f) => f.count === 1)).toBe(true);

    const crash = (await (await fetch(`${web}/api/ProcessedCrash/?crash_id=${ids[0]}`)).json()) as { success: boolean; signature: string };
    expect(crash.success).toBe(true);
    expect(crash.signature).toBeTruthy();

    // Both processors did some of the work, as their heartbeats say.
    const status = await eventually(async () => {
      const s = (await (await fetch(`${web}/status/json`)).json()) as { processors: { id: string; processed: number }[] };
      const total = s.processors.reduce((n, p) => n + (p.processed ?? 0), 0);
      return s.processors.length === 2 && total >= ids.length ? s : undefined;
    }, 20_000, 'both processors reporting every crash');
    expect(status.processors.map((p) => p.id.split('@')[0]).sort()).toEqual(['processor-1', 'processor-2']);
    expect(status.processors.every((p) => p.processed > 0)).toBe(true);

    // The scheduler ran verify-processed and recorded it in PostgreSQL; the web node lists it.
    const jobs = (await (await fetch(`${web}/api/ops/jobs`)).json()) as { jobs: { job: string; runs: number; last_run: { owner: string } | null }[] };
    const verify = jobs.jobs.find((j) => j.job === 'verify-processed')!;
    expect(verify.runs).toBeGreaterThan(0);
    expect(verify.last_run!.owner).toMatch(/^scheduler@/);
  }, 180_000);
});
