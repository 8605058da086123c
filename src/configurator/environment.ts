/**
 * The validator's environment layer (Node only; `--no-environment` skips it): do the
 * services a deployment names answer, from this machine, with the credentials given, and
 * can the nodes that run here start (directories writable, ports free)? Each distinct
 * service is probed once, concurrently, within a time limit; a finding is placed at the
 * line of the first node that names the service.
 *
 * Nodes on other hosts are not checked for directories and ports: this machine cannot see
 * them. Services are probed from here, which is what a node on this machine would see.
 */

import { access, constants, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import amqp from 'amqplib';
import pg from 'pg';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { withTimeout } from '../common/with-timeout.js';
import { nodeId, stripCredentials } from './compile.js';
import { LOCAL_HOST, type Deployment, type DeploymentNode, type Finding } from './deployment.js';
import { optionPlace } from './validate.js';

export interface EnvironmentOptions {
  /** Directory relative node paths (`node.data_dir`) are resolved against: where the nodes are started. */
  baseDir: string;
  /** Longest wait for one service. */
  timeoutMs?: number;
  /** Host names taken to mean this machine (besides `localhost`, this machine's name and loopback addresses). */
  localHosts?: readonly string[];
}

export async function checkEnvironment(deployment: Deployment, options: EnvironmentOptions): Promise<Finding[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const local = new Set([LOCAL_HOST, hostname(), '127.0.0.1', '::1', ...(options.localHosts ?? [])]);
  const checks: Promise<Finding[]>[] = [];
  const once = new Map<string, DeploymentNode[]>();
  const group = (key: string, node: DeploymentNode): void => {
    const nodes = once.get(key) ?? [];
    nodes.push(node);
    once.set(key, nodes);
  };
  for (const node of deployment.nodes) {
    const { config } = node;
    if (config.database.backend === 'postgresql' && config.database.url) group(`pg|${config.database.url}`, node);
    if (config.queue.backend === 'rabbitmq' && config.queue.url) group(`amqp|${config.queue.url}`, node);
    if (config.storage.backend === 's3' && config.storage.s3_bucket) group(`s3|storage|${s3Key(config.storage)}`, node);
    if (config.symbols.store === 's3' && config.symbols.s3_bucket) group(`s3|symbols|${s3Key(config.symbols)}`, node);
  }
  for (const [key, nodes] of once) {
    const [kind] = key.split('|');
    if (kind === 'pg') checks.push(checkPostgres(deployment, nodes, timeoutMs));
    else if (kind === 'amqp') checks.push(checkRabbit(deployment, nodes, timeoutMs));
    else checks.push(checkBucket(deployment, nodes, key.split('|')[1] as 'storage' | 'symbols', timeoutMs));
  }
  for (const node of deployment.nodes.filter((n) => local.has(n.host))) {
    checks.push(checkDirectories(deployment, node, options.baseDir));
    checks.push(checkPort(deployment, node));
  }
  return (await Promise.all(checks)).flat();
}

function s3Key(o: { s3_endpoint?: string; s3_bucket?: string; s3_access_key_id?: string; s3_region: string }): string {
  return [o.s3_endpoint ?? '', o.s3_bucket, o.s3_access_key_id ?? '', o.s3_region].join('|');
}

function finding(deployment: Deployment, node: DeploymentNode, option: string, code: string, message: string, hint: string, severity: Finding['severity'] = 'error'): Finding {
  return { layer: 'environment', code, severity, ...optionPlace(deployment, node, option), option, message, hint, targets: [nodeId(node)] };
}

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.$metadata?.httpStatusCode) return `${e.name ?? 'error'} (HTTP ${e.$metadata.httpStatusCode})`;
  return [e?.code, e?.message].filter(Boolean).join(': ') || String(error);
}

/** `work`, or an error naming `what` when it takes longer than `ms`. */
function answerWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(work, ms, `${what} did not answer within ${ms} ms`);
}

async function checkPostgres(deployment: Deployment, nodes: DeploymentNode[], timeoutMs: number): Promise<Finding[]> {
  const url = nodes[0].config.database.url!;
  const shown = stripCredentials(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await answerWithin(client.connect(), timeoutMs, `PostgreSQL at ${shown}`);
    const { rows } = await client.query<{ max: string; reserved: string }>("SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved");
    const available = Number(rows[0].max) - Number(rows[0].reserved);
    const wanted = nodes.reduce((sum, n) => sum + n.config.database.pool_size, 0);
    if (wanted > available) {
      return [
        finding(
          deployment,
          nodes[0],
          'database.pool_size',
          'postgres-connections',
          `the ${nodes.length} nodes on ${shown} may open ${wanted} connections (database.pool_size each), but the server takes ${available} (max_connections ${rows[0].max} less ${rows[0].reserved} reserved)`,
          'lower database.pool_size, or raise max_connections on the server (or put PgBouncer in front)',
          'warning',
        ),
      ];
    }
    return [];
  } catch (error) {
    return [finding(deployment, nodes[0], 'database.url', 'postgres-unreachable', `PostgreSQL at ${shown} does not answer from this machine: ${reason(error)}`, 'check the host, port, database name and credentials of database.url, and that the server is running', 'error')];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRabbit(deployment: Deployment, nodes: DeploymentNode[], timeoutMs: number): Promise<Finding[]> {
  const url = nodes[0].config.queue.url!;
  const shown = stripCredentials(url);
  try {
    const connection = await answerWithin(amqp.connect(url, { timeout: timeoutMs }), timeoutMs, `RabbitMQ at ${shown}`);
    connection.on('error', () => undefined);
    await connection.close();
    return [];
  } catch (error) {
    return [finding(deployment, nodes[0], 'queue.url', 'rabbitmq-unreachable', `RabbitMQ at ${shown} does not answer from this machine: ${reason(error)}`, 'check the host, port, virtual host and credentials of queue.url, and that the broker is running')];
  }
}

async function checkBucket(deployment: Deployment, nodes: DeploymentNode[], section: 'storage' | 'symbols', timeoutMs: number): Promise<Finding[]> {
  const o = nodes[0].config[section];
  const client = new S3Client({
    region: o.s3_region,
    endpoint: o.s3_endpoint,
    forcePathStyle: o.s3_force_path_style,
    credentials: o.s3_access_key_id && o.s3_secret_access_key ? { accessKeyId: o.s3_access_key_id, secretAccessKey: o.s3_secret_access_key } : undefined,
    maxAttempts: 1,
  });
  const where = `bucket ${o.s3_bucket}${o.s3_endpoint ? ` at ${stripCredentials(o.s3_endpoint)}` : ''}`;
  try {
    await answerWithin(client.send(new HeadBucketCommand({ Bucket: o.s3_bucket })), timeoutMs, `S3 ${where}`);
    return [];
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const missing = status === 404;
    return [
      finding(
        deployment,
        nodes[0],
        `${section}.${missing ? 's3_bucket' : o.s3_endpoint ? 's3_endpoint' : 's3_bucket'}`,
        missing ? 's3-bucket-missing' : 's3-unreachable',
        missing ? `the ${where} does not exist` : `the ${where} does not answer from this machine with the given credentials: ${reason(error)}`,
        missing ? `create the bucket (e.g. mc mb, aws s3 mb) before starting the nodes` : `check ${section}.s3_endpoint, ${section}.s3_access_key_id and ${section}.s3_secret_access_key`,
      ),
    ];
  } finally {
    client.destroy();
  }
}

async function checkDirectories(deployment: Deployment, node: DeploymentNode, baseDir: string): Promise<Finding[]> {
  const { config } = node;
  const dataDir = resolve(baseDir, config.node.data_dir);
  const within = (p: string): string => (isAbsolute(p) ? p : resolve(dataDir, p));
  const places: [string, string][] = [['node.data_dir', dataDir]];
  if (config.storage.backend === 'fs') places.push(['storage.raw_path', within(config.storage.raw_path)], ['storage.processed_path', within(config.storage.processed_path)]);
  if (config.symbols.store === 'fs' && config.symbols.paths[0]) places.push(['symbols.paths', within(config.symbols.paths[0])]);
  const out: Finding[] = [];
  for (const [option, path] of places) {
    const problem = await writableOrCreatable(path);
    if (problem) out.push(finding(deployment, node, option, 'directory-not-writable', `${node.id} cannot write ${path}: ${problem}`, `create the directory and give the user that runs ${node.id} write access, or change ${option}`));
  }
  return out;
}

/** Why `path` cannot be written or made; undefined when it can. */
async function writableOrCreatable(path: string): Promise<string | undefined> {
  let current = path;
  for (;;) {
    try {
      const info = await stat(current);
      if (!info.isDirectory()) return `${current} is not a directory`;
      await access(current, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Missing: made at start-up if its parent can be written. Under a file: that file is the problem.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(current) !== current) {
        current = dirname(current);
        continue;
      }
      return code === 'EACCES' ? `${current} is not writable` : reason(error);
    }
  }
}

async function checkPort(deployment: Deployment, node: DeploymentNode): Promise<Finding[]> {
  const { host, port } = node.config.web;
  if (port === 0) return [];
  const server = createServer();
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => resolveListen());
    });
    return [];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'something already listens there' : code === 'EACCES' ? 'this user may not bind it' : code === 'EADDRNOTAVAIL' ? 'this machine has no such address' : reason(error);
    return [finding(deployment, node, code === 'EADDRNOTAVAIL' ? 'web.host' : 'web.port', 'port-unavailable', `${node.id} cannot listen on ${host}:${port}: ${why}`, 'stop what holds the port, or choose another web.port')];
  } finally {
    await new Promise<void>((done) => server.close(() => done()));
  }
}
