import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { connect } from 'amqplib';
import pg from 'pg';
import { expect } from 'vitest';
import { startS3rver, type LocalS3 } from '../adapters/s3rver-support.js';
import type { ClientsResult } from './crash-clients.js';
import { startMayday, type MaydayProcess } from './mayday-process.js';

/**
 * The five-process deployment of examples/distributed/ (web, collector, two processors,
 * scheduler), each `mayday run --config examples/distributed/NODE.ini` in its own process,
 * pointed by environment variables at the services a test gives it, in a schema and a
 * queue prefix of its own. Nodes can be killed and started again (on the same port and
 * data directory, as a supervisor restarts a service), and any setting overridden for all
 * nodes or for one.
 */

export const NODES = ['web', 'collector', 'processor-1', 'processor-2', 'scheduler'] as const;
export type NodeName = (typeof NODES)[number];

export interface DeploymentOptions {
  /** Names the temporary directory and the kept logs. */
  label: string;
  postgresUrl: string;
  rabbitUrl: string;
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  /** For every node, over the defaults below. */
  env?: Record<string, string>;
  /** For one node, over everything else. */
  nodeEnv?: Partial<Record<NodeName, Record<string, string>>>;
  /** Which nodes to start at first (default: all five). */
  nodes?: readonly NodeName[];
  /** A node's configuration file instead of examples/distributed/NODE.ini (one that includes it, say, and adds to it). */
  configFiles?: Partial<Record<NodeName, string>>;
}

/** Crashes of one product in the index: each crash id with how many index rows it has. */
export interface Indexed {
  total: number;
  counts: Map<string, number>;
}

export class Deployment {
  readonly schema = `mayday_test_${randomBytes(6).toString('hex')}`;
  readonly prefix = `mayday_test_${randomBytes(4).toString('hex')}.`;
  readonly root: string;
  private readonly running = new Map<NodeName, MaydayProcess>();
  /** Every incarnation of each node (killed ones too), for the logs. */
  private readonly history = new Map<NodeName, MaydayProcess[]>();
  private readonly urls = new Map<NodeName, string>();
  private readonly baseEnv: Record<string, string>;

  private constructor(private readonly options: DeploymentOptions) {
    this.root = mkdtempSync(join(tmpdir(), `mayday-${options.label}-`));
    const { s3 } = options;
    this.baseEnv = {
      ...exampleDeploymentEnv({ postgresUrl: options.postgresUrl, schema: this.schema, rabbitUrl: options.rabbitUrl, prefix: this.prefix, s3 }),
      // Fault tests wait for recoveries: every periodic task runs often.
      MAYDAY_COLLECTOR_SWEEP_INTERVAL: '300ms',
      MAYDAY_PROCESSOR_POLL_INTERVAL: '200ms',
      MAYDAY_WEB_SHUTDOWN_TIMEOUT: '2s',
      MAYDAY_LOG_LEVEL: 'info',
      // The tests poll the web node's API faster than a person would.
      MAYDAY_WEB_API_RATE_LIMIT: '100000',
      ...options.env,
    };
  }

  /** Starts the nodes together (each migrates its tables under the same advisory lock). */
  static async start(options: DeploymentOptions): Promise<Deployment> {
    const deployment = new Deployment(options);
    const nodes = options.nodes ?? NODES;
    try {
      const started = await Promise.allSettled(nodes.map((n) => deployment.startNode(n)));
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (error) {
      await deployment.stop();
      throw error;
    }
    return deployment;
  }

  envOf(node: NodeName, extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.baseEnv, MAYDAY_NODE_DATA_DIR: join(this.root, node), ...this.options.nodeEnv?.[node], ...extra };
  }

  /**
   * Starts `node`; a node started before comes back on the same port (clients and the
   * load balancer keep its address) and the same data directory.
   */
  async startNode(node: NodeName, extra: Record<string, string> = {}): Promise<MaydayProcess> {
    if (this.running.has(node)) throw new Error(`${node} is running already`);
    const previous = this.urls.get(node);
    const port: Record<string, string> = previous ? { MAYDAY_WEB_PORT: new URL(previous).port } : {};
    // Generous: five nodes start at once, on a machine that runs other test files meanwhile.
    const file = this.options.configFiles?.[node] ?? `examples/distributed/${node}.ini`;
    const process = await startMayday(['run', '--config', file], this.envOf(node, { ...port, ...extra }), 60_000);
    this.running.set(node, process);
    this.history.set(node, [...(this.history.get(node) ?? []), process]);
    this.urls.set(node, process.url);
    return process;
  }

  /** Signals `node` and resolves once it has exited. */
  async kill(node: NodeName, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
    const process = this.running.get(node);
    if (!process) throw new Error(`${node} is not running`);
    process.child.kill(signal);
    const code = await process.exited;
    this.running.delete(node);
    return code;
  }

  isRunning(node: NodeName): boolean {
    return this.running.has(node);
  }

  /** Null while `node` runs; how it ended if it exited on its own (or 'not started' when the test stopped it). */
  exitCode(node: NodeName): number | string | null {
    const p = this.running.get(node);
    if (!p) return 'not started';
    return p.child.exitCode ?? p.child.signalCode ?? null;
  }

  url(node: NodeName): string {
    const url = this.urls.get(node);
    if (!url) throw new Error(`${node} was never started`);
    return url;
  }

  /** What the latest incarnation of `node` wrote. */
  lastLog(node: NodeName): string {
    const p = this.history.get(node)?.at(-1);
    return p ? p.stdout() + p.stderr() : '';
  }

  /** Everything every incarnation of `node` wrote. */
  log(node: NodeName): string {
    return (this.history.get(node) ?? []).map((p, i) => `--- ${node} #${i + 1}\n${p.stdout()}${p.stderr()}`).join('\n');
  }

  /**
   * The product's crashes in the index, as the web node's Super Search facet on uuid
   * counts them (one row per crash, so a count above 1 is a duplicate); undefined while
   * the web node does not answer 200.
   */
  async indexed(product: string): Promise<Indexed | undefined> {
    try {
      const response = await fetch(`${this.url('web')}/api/SuperSearch/?product=${encodeURIComponent(product)}&_results_number=0&_facets=uuid&_facets_size=10000`, {
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status !== 200) return undefined;
      const result = (await response.json()) as { total: number; facets: { uuid: { term: string; count: number }[] } };
      return { total: result.total, counts: new Map(result.facets.uuid.map((f) => [f.term, f.count])) };
    } catch {
      return undefined;
    }
  }

  /** Resolves once every id of `ids` is in the index (or fails after `timeoutMs`, saying which are missing). */
  async waitIndexed(product: string, ids: readonly string[], timeoutMs: number): Promise<Indexed> {
    const deadline = Date.now() + timeoutMs;
    let last: Indexed | undefined;
    for (;;) {
      last = (await this.indexed(product)) ?? last;
      if (last && ids.every((id) => last!.counts.has(id))) return last;
      if (Date.now() > deadline) {
        const missing = ids.filter((id) => !last?.counts.has(id));
        throw new Error(`after ${timeoutMs} ms, ${missing.length} of ${ids.length} crashes of ${product} are not in the index: ${missing.slice(0, 10).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Runs SQL in the deployment's schema (the queue ledger, for instance). */
  async sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.options.postgresUrl, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(`SET search_path = ${this.schema}`);
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Stops every node (SIGTERM, then SIGKILL for any still running after 15 s), keeps the
   * logs when MAYDAY_TEST_KEEP_LOGS names a directory, and removes the schema, the queues
   * and the data directories (each best effort: a service a test stopped may be gone).
   */
  async stop(): Promise<void> {
    const processes = [...this.running.values()];
    this.running.clear();
    for (const p of processes) p.child.kill('SIGTERM');
    await Promise.all(
      processes.map(async (p) => {
        const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
        await p.exited;
        clearTimeout(timer);
      }),
    );
    const keep = process.env.MAYDAY_TEST_KEEP_LOGS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const node of this.history.keys()) writeFileSync(join(keep, `${this.options.label}-${node}.log`), this.log(node));
    }
    await this.dropSchema().catch(() => undefined);
    await this.deleteQueues().catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }

  private async dropSchema(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.postgresUrl, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async deleteQueues(): Promise<void> {
    const connection = await connect(this.options.rabbitUrl, { timeout: 5000 });
    try {
      const channel = await connection.createChannel();
      for (const name of ['priority', 'standard', 'reprocessing']) {
        await channel.deleteQueue(`${this.prefix}${name}`);
        await channel.deleteQueue(`${this.prefix}${name}.delay`);
      }
      await channel.close();
    } finally {
      await connection.close();
    }
  }
}

/**
 * What a fault test checks of its crashes: every crash id a client was given is in the
 * index once; nothing in the index is counted twice. Returns the ids indexed that no
 * client was given (the caller decides whether there may be any).
 */
/**
 * What points the files of `examples/distributed/` at a test's own services: its database
 * schema, queue prefix and S3 server, with small intervals and one stackwalk thread.
 */
export function exampleDeploymentEnv(o: { postgresUrl: string; schema: string; rabbitUrl: string; prefix: string; s3: DeploymentOptions['s3'] }): Record<string, string> {
  return {
    MAYDAY_DATABASE_URL: o.postgresUrl,
    MAYDAY_DATABASE_SCHEMA: o.schema,
    MAYDAY_QUEUE_URL: o.rabbitUrl,
    MAYDAY_QUEUE_PREFIX: o.prefix,
    MAYDAY_STORAGE_S3_ENDPOINT: o.s3.endpoint,
    MAYDAY_STORAGE_S3_ACCESS_KEY_ID: o.s3.accessKeyId,
    MAYDAY_STORAGE_S3_SECRET_ACCESS_KEY: o.s3.secretAccessKey,
    MAYDAY_SYMBOLS_S3_ENDPOINT: o.s3.endpoint,
    MAYDAY_SYMBOLS_S3_ACCESS_KEY_ID: o.s3.accessKeyId,
    MAYDAY_SYMBOLS_S3_SECRET_ACCESS_KEY: o.s3.secretAccessKey,
    MAYDAY_WEB_PORT: '0',
    MAYDAY_PROCESSOR_WORKERS: '1',
    MAYDAY_SCHEDULER_TICK_INTERVAL: '500ms',
    MAYDAY_NODE_HEARTBEAT_INTERVAL: '500ms',
  };
}

/** Stops nodes started by a test (SIGTERM, then their exit); with MAYDAY_TEST_KEEP_LOGS set, keeps each one's output there. */
export async function stopNodes(running: ReadonlyMap<string, MaydayProcess>): Promise<void> {
  for (const node of running.values()) node.child.kill('SIGTERM');
  await Promise.all([...running.values()].map((p) => p.exited));
  const keep = process.env.MAYDAY_TEST_KEEP_LOGS;
  if (keep) {
    mkdirSync(keep, { recursive: true });
    for (const [name, p] of running) writeFileSync(`${keep}/${name}.log`, p.stdout() + p.stderr());
  }
}

export function compareIndex(crashIds: readonly string[], indexed: Indexed): { missing: string[]; duplicates: string[]; unacknowledged: string[] } {
  const given = new Set(crashIds);
  return {
    missing: crashIds.filter((id) => !indexed.counts.has(id)),
    duplicates: [...indexed.counts].filter(([, n]) => n !== 1).map(([id]) => id),
    unacknowledged: [...indexed.counts.keys()].filter((id) => !given.has(id)),
  };
}

/**
 * s3rver with the example's two buckets (crashes and symbols). With `at`, started again
 * on a stopped server's port and directory: the same endpoint, the same objects.
 */
export async function startDeploymentS3(at?: LocalS3): Promise<LocalS3> {
  const s3 = await startS3rver('mayday-crashes', at ? { port: Number(new URL(at.endpoint).port), directory: at.directory } : {});
  if (!at) {
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.options.accessKeyId, secretAccessKey: s3.options.secretAccessKey } });
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'mayday-symbols' }));
    } finally {
      client.destroy();
    }
  }
  return s3;
}

/** The deployment's settings for an s3rver. */
export function s3Settings(s3: LocalS3): DeploymentOptions['s3'] {
  return { endpoint: s3.endpoint, accessKeyId: s3.options.accessKeyId, secretAccessKey: s3.options.secretAccessKey };
}

/** The figures of a fault test, in the test output. */
export function reportFigures(fault: string, figures: Record<string, number>): void {
  process.stdout.write(`[faults] ${fault}: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}

/** Every node still runs: a fault of a service, or of another node, must not take a node down. */
export function expectAllRunning(deployment: Deployment): void {
  for (const node of NODES) expect(deployment.exitCode(node), `${node} exited:\n${deployment.lastLog(node).slice(-3000)}`).toBe(null);
}

/**
 * What a fault test ends with when nothing may be processed that no client was told of:
 * every crash acknowledged, each id in the index once, and no other crash of the product.
 */
export async function expectAllIndexedOnce(deployment: Deployment, product: string, results: ClientsResult[], timeoutMs: number): Promise<{ submitted: number; crashIds: number; indexed: number }> {
  const ids = results.flatMap((r) => r.crashIds);
  const submitted = results.reduce((n, r) => n + r.submitted, 0);
  expect(results.flatMap((r) => r.failures)).toEqual([]);
  expect(ids).toHaveLength(submitted);
  expect(new Set(ids).size).toBe(ids.length);
  const indexed = await deployment.waitIndexed(product, ids, timeoutMs);
  const { missing, duplicates, unacknowledged } = compareIndex(ids, indexed);
  expect(missing).toEqual([]);
  expect(duplicates).toEqual([]);
  expect(unacknowledged).toEqual([]);
  return { submitted, crashIds: ids.length, indexed: indexed.counts.size };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
