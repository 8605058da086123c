/**
 * The validator's environment layer (Node only; `--no-environment` skips it): do the
 * services a deployment names answer, from this machine, with the credentials given, and
 * can the nodes that run here start (directories writable, ports free)? Each distinct
 * service is probed once, concurrently, within a time limit; a finding is placed at the
 * line of the first node that names the service.
 *
 * Nodes on other hosts are not checked for directories and ports: this machine cannot see
 * them. Services are probed from here, which is what a node on this machine would see.
 *
 * Answering is not enough: each service is also asked, cheaply and without leaving
 * anything behind, whether the credentials may do what a node does there. PostgreSQL:
 * may the user create in the schema (or create the schema). RabbitMQ: may it declare,
 * publish to and read from a temporary exclusive queue under the prefix. S3: may it put
 * and delete a probe object, `PREFIX.mayday-configurator-probe`, under the prefix.
 */

import { randomBytes } from 'node:crypto';
import { access, constants, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import amqp from 'amqplib';
import pg from 'pg';
import { DeleteObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
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

/** A PostgreSQL error the server sent (it has a SQLSTATE), as opposed to a network failure. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

async function checkPostgres(deployment: Deployment, nodes: DeploymentNode[], timeoutMs: number): Promise<Finding[]> {
  const url = nodes[0].config.database.url!;
  const shown = stripCredentials(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    try {
      await answerWithin(client.connect(), timeoutMs, `PostgreSQL at ${shown}`);
    } catch (error) {
      const state = sqlState(error);
      // 28P01 wrong password, 28000 no such role (or pg_hba refuses it): the server answered and said no.
      if (state === '28P01' || state === '28000') {
        return [finding(deployment, nodes[0], 'database.url', 'postgres-refused', `PostgreSQL at ${shown} refused the credentials: ${(error as Error).message}`, 'check the user name and password of database.url (or the server\'s pg_hba.conf)')];
      }
      if (state) {
        const missing = state === '3D000';
        return [
          finding(
            deployment,
            nodes[0],
            'database.url',
            missing ? 'postgres-database-missing' : 'postgres-refused',
            `PostgreSQL at ${shown} refused the connection: ${(error as Error).message}`,
            missing ? 'create the database (createdb, CREATE DATABASE) or correct its name in database.url' : 'check database.url against the server\'s settings',
          ),
        ];
      }
      return [finding(deployment, nodes[0], 'database.url', 'postgres-unreachable', `PostgreSQL at ${shown} does not answer from this machine: ${reason(error)}`, 'check the host and port of database.url, and that the server is running')];
    }
    return [...(await postgresConnections(deployment, nodes, client, shown)), ...(await postgresRights(deployment, nodes, client, shown))];
  } catch (error) {
    return [finding(deployment, nodes[0], 'database.url', 'postgres-unreachable', `PostgreSQL at ${shown} stopped answering: ${reason(error)}`, 'check that the server is running and accepts queries')];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function postgresConnections(deployment: Deployment, nodes: DeploymentNode[], client: pg.Client, shown: string): Promise<Finding[]> {
  const { rows } = await client.query<{ max: string; reserved: string }>("SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved");
  const available = Number(rows[0].max) - Number(rows[0].reserved);
  const wanted = nodes.reduce((sum, n) => sum + n.config.database.pool_size, 0);
  if (wanted <= available) return [];
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

/**
 * May the user create Mayday's tables where the nodes put them: in `database.schema` (or
 * create that schema, which the nodes do when it is missing), else in the first schema of
 * the search path. Asked of the catalogue: nothing is created.
 */
async function postgresRights(deployment: Deployment, nodes: DeploymentNode[], client: pg.Client, shown: string): Promise<Finding[]> {
  const out: Finding[] = [];
  const bySchema = new Map<string, DeploymentNode>();
  for (const node of nodes) if (!bySchema.has(node.config.database.schema ?? '')) bySchema.set(node.config.database.schema ?? '', node);
  for (const [schema, node] of bySchema) {
    const { rows } = await client.query<{ user: string; db: string; target: string | null; exists: boolean; create_in: boolean | null; create_schema: boolean }>(
      `SELECT current_user AS user, current_database() AS db, coalesce($1, current_schema()) AS target,
              EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = coalesce($1, current_schema())) AS exists,
              (SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = coalesce($1, current_schema())) AS create_in,
              has_database_privilege(current_database(), 'CREATE') AS create_schema`,
      [schema || null],
    );
    const r = rows[0];
    const option = schema ? 'database.schema' : 'database.url';
    const at = (message: string, hint: string): Finding => finding(deployment, node, option, 'postgres-no-rights', message, hint);
    if (r.target === null) out.push(at(`PostgreSQL at ${shown}: no schema of ${r.user}'s search_path exists in database ${r.db}, so the nodes have nowhere to create their tables`, 'set database.schema, or create a schema on the search path'));
    else if (r.exists && !r.create_in) out.push(at(`PostgreSQL at ${shown}: ${r.user} may not create tables in schema ${r.target} of database ${r.db}`, `GRANT CREATE ON SCHEMA ${r.target} TO ${r.user}, or choose a schema of its own (database.schema)`));
    else if (!r.exists && !r.create_schema) out.push(at(`PostgreSQL at ${shown}: schema ${r.target} does not exist in database ${r.db}, and ${r.user} may not create it`, `CREATE SCHEMA ${r.target} AUTHORIZATION ${r.user}, or GRANT CREATE ON DATABASE ${r.db} TO ${r.user}`));
  }
  return out;
}

/** The broker's own words from an amqplib error: `ACCESS_REFUSED - Login was refused ...`. */
function brokerSays(error: unknown): string | undefined {
  return /with message "([^"]*)"/.exec((error as Error)?.message ?? '')?.[1];
}

async function checkRabbit(deployment: Deployment, nodes: DeploymentNode[], timeoutMs: number): Promise<Finding[]> {
  const url = nodes[0].config.queue.url!;
  const shown = stripCredentials(url);
  let connection: amqp.ChannelModel;
  try {
    connection = await answerWithin(amqp.connect(url, { timeout: timeoutMs }), timeoutMs, `RabbitMQ at ${shown}`);
  } catch (error) {
    const said = brokerSays(error);
    if (said?.startsWith('ACCESS_REFUSED')) return [finding(deployment, nodes[0], 'queue.url', 'rabbitmq-refused', `RabbitMQ at ${shown} refused the credentials: ${said}`, 'check the user name and password of queue.url (rabbitmqctl list_users)')];
    // A virtual host that does not exist, or that the user may not use, closes the connection
    // after the login; amqplib keeps the broker's words to itself then.
    const closed = !said && /got <ConnectionClose/.test((error as Error)?.message ?? '') ? 'it closed the connection after the login: a virtual host that does not exist, or one the user may not use' : undefined;
    if (said || closed) return [finding(deployment, nodes[0], 'queue.url', 'rabbitmq-refused', `RabbitMQ at ${shown} refused the connection: ${said ?? closed}`, 'check the virtual host of queue.url and the user\'s access to it (rabbitmqctl list_vhosts, list_permissions)')];
    return [finding(deployment, nodes[0], 'queue.url', 'rabbitmq-unreachable', `RabbitMQ at ${shown} does not answer from this machine: ${reason(error)}`, 'check the host and port of queue.url, and that the broker is running')];
  }
  connection.on('error', () => undefined);
  try {
    const out: Finding[] = [];
    const byPrefix = new Map<string, DeploymentNode>();
    for (const node of nodes) if (!byPrefix.has(node.config.queue.prefix)) byPrefix.set(node.config.queue.prefix, node);
    for (const [prefix, node] of byPrefix) {
      const problem = await rabbitRights(connection, prefix, timeoutMs);
      if (problem) out.push(finding(deployment, node, 'queue.url', 'rabbitmq-no-rights', `RabbitMQ at ${shown} accepts the credentials, but ${problem}`, `give the user configure, write and read permissions on queues ${prefix}* (rabbitmqctl set_permissions)`));
    }
    return out;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * What a node does on the broker, on a queue of the probe's own: declare it (configure),
 * publish to it through the default exchange (write), read from it (read). The queue is
 * exclusive and auto-deleted, and deleted at once. Why it failed, or undefined.
 */
async function rabbitRights(connection: amqp.ChannelModel, prefix: string, timeoutMs: number): Promise<string | undefined> {
  const name = `${prefix}mayday-configurator-probe.${randomBytes(4).toString('hex')}`;
  let step = `may not declare queue ${name}`;
  let channel: amqp.ConfirmChannel | undefined;
  try {
    channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    await answerWithin(channel.assertQueue(name, { exclusive: true, autoDelete: true, durable: false }), timeoutMs, 'the declaration');
    step = `may not publish to queue ${name}`;
    channel.sendToQueue(name, Buffer.from('probe'));
    await answerWithin(channel.waitForConfirms(), timeoutMs, 'the confirmation');
    step = `may not read queue ${name}`;
    await answerWithin(channel.get(name, { noAck: true }), timeoutMs, 'the read');
    await channel.deleteQueue(name);
    return undefined;
  } catch (error) {
    return `${step}: ${brokerSays(error) ?? reason(error)}`;
  } finally {
    await channel?.close().catch(() => undefined);
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
  const status = (error: unknown): number | undefined => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  try {
    try {
      await answerWithin(client.send(new HeadBucketCommand({ Bucket: o.s3_bucket })), timeoutMs, `S3 ${where}`);
    } catch (error) {
      const code = status(error);
      if (code === 404) return [finding(deployment, nodes[0], `${section}.s3_bucket`, 's3-bucket-missing', `the ${where} does not exist`, 'create the bucket (e.g. mc mb, aws s3 mb) before starting the nodes')];
      if (code === 401 || code === 403) {
        return [finding(deployment, nodes[0], `${section}.s3_access_key_id`, 's3-refused', `the ${where} refused the credentials (HTTP ${code})`, `check ${section}.s3_access_key_id and ${section}.s3_secret_access_key, and that the key may use the bucket`)];
      }
      return [finding(deployment, nodes[0], `${section}.${o.s3_endpoint ? 's3_endpoint' : 's3_bucket'}`, 's3-unreachable', `the ${where} does not answer from this machine: ${reason(error)}`, `check ${section}.s3_endpoint, and that the server is running`)];
    }
    // Reaching the bucket is not writing to it: a read-only key passes HeadBucket.
    const Key = `${o.s3_prefix}.mayday-configurator-probe`;
    let step = 'write';
    try {
      await answerWithin(client.send(new PutObjectCommand({ Bucket: o.s3_bucket, Key, Body: 'written by mayday config validate, and deleted at once\n' })), timeoutMs, `S3 ${where}`);
      step = 'delete';
      await answerWithin(client.send(new DeleteObjectCommand({ Bucket: o.s3_bucket, Key })), timeoutMs, `S3 ${where}`);
      return [];
    } catch (error) {
      return [finding(deployment, nodes[0], `${section}.s3_bucket`, 's3-no-rights', `the ${where} answers, but the credentials may not ${step} ${Key} there: ${reason(error)}`, `give the key s3:PutObject, s3:GetObject and s3:DeleteObject on ${o.s3_bucket}/${o.s3_prefix}*`)];
    }
  } finally {
    client.destroy();
  }
}

type Need = 'write' | 'read';

/**
 * Every place a node of this machine keeps or reads files, with what it needs there:
 * directories it writes (made at start-up if missing), SQLite files it writes (their
 * directory too, for the journal), directories it only reads.
 */
function nodePlaces(node: DeploymentNode, baseDir: string): { option: string; path: string; need: Need; file?: boolean }[] {
  const { config } = node;
  const roles = new Set(node.roles);
  const dataDir = resolve(baseDir, config.node.data_dir);
  const within = (p: string): string => (isAbsolute(p) ? p : resolve(dataDir, p));
  const places: { option: string; path: string; need: Need; file?: boolean }[] = [{ option: 'node.data_dir', path: dataDir, need: 'write' }];
  if (config.storage.backend === 'fs') places.push({ option: 'storage.raw_path', path: within(config.storage.raw_path), need: 'write' }, { option: 'storage.processed_path', path: within(config.storage.processed_path), need: 'write' });
  if (config.queue.backend === 'sqlite') places.push({ option: 'queue.path', path: within(config.queue.path), need: 'write', file: true });
  if (config.database.backend === 'sqlite') places.push({ option: 'database.path', path: within(config.database.path), need: 'write', file: true });
  const [first, ...rest] = config.symbols.paths;
  if (config.symbols.store === 'fs' && first !== undefined) places.push({ option: 'symbols.paths', path: within(first), need: 'write' });
  if (roles.has('processor')) {
    for (const p of config.symbols.store === 'fs' ? rest : config.symbols.paths) places.push({ option: 'symbols.paths', path: within(p), need: 'read' });
    if (config.symbols.upstream_urls.length > 0) places.push({ option: 'symbols.upstream_cache_path', path: within(config.symbols.upstream_cache_path), need: 'write' });
  }
  // The processor signs with these lists; the web node's Socorro API answers with them.
  if (config.processor.signature_lists && (roles.has('processor') || roles.has('web'))) places.push({ option: 'processor.signature_lists', path: within(config.processor.signature_lists), need: 'read' });
  return places;
}

async function checkDirectories(deployment: Deployment, node: DeploymentNode, baseDir: string): Promise<Finding[]> {
  const out: Finding[] = [];
  // One mistake, one finding: paths under a data_dir that cannot be made fail for the same reason.
  const reported = new Set<string>();
  for (const { option, path, need, file } of nodePlaces(node, baseDir)) {
    if (need === 'read') {
      const problem = await readableDirectory(path, isDefault(node, option));
      if (problem && !reported.has(problem)) {
        reported.add(problem);
        out.push(finding(deployment, node, option, 'directory-not-readable', `${node.id} cannot read ${path}: ${problem}`, option === 'processor.signature_lists' ? 'create the directory with the lists, or unset processor.signature_lists: the built-in lists are used meanwhile' : `create the directory, give the user that runs ${node.id} read access, or remove it from ${option}`, 'warning'));
      }
      continue;
    }
    const problem = file ? await writableFile(path) : await writableOrCreatable(path);
    if (problem && !reported.has(problem)) {
      reported.add(problem);
      out.push(finding(deployment, node, option, 'directory-not-writable', `${node.id} cannot write ${path}: ${problem}`, `create the directory and give the user that runs ${node.id} write access, or change ${option}`));
    }
  }
  return out;
}

function isDefault(node: DeploymentNode, option: string): boolean {
  const origin = node.origins.get(option);
  return origin === undefined || origin.kind === 'default';
}

/**
 * Why the directory `path` cannot be read; undefined when it can. A default that does
 * not exist is no mistake (symbols.paths defaults to `symbols`, which a node with an S3
 * store never makes): only a directory someone named must exist.
 */
async function readableDirectory(path: string, byDefault: boolean): Promise<string | undefined> {
  try {
    if (!(await stat(path)).isDirectory()) return `${path} is not a directory`;
    await access(path, constants.R_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && byDefault) return undefined;
    return code === 'ENOENT' ? `${path} does not exist` : code === 'EACCES' ? `${path} is not readable` : reason(error);
  }
}

/** Why the file `path` (a SQLite database) cannot be written or made; undefined when it can. */
async function writableFile(path: string): Promise<string | undefined> {
  try {
    if ((await stat(path)).isDirectory()) return `${path} is a directory`;
    await access(path, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return `${path} is not writable`;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return reason(error);
  }
  // SQLite writes its journal beside the file.
  return writableOrCreatable(dirname(path));
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
