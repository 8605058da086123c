import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { compileDeployment, stripCredentials } from '../../src/configurator/compile.js';
import type { DeploymentFile, Finding } from '../../src/configurator/deployment.js';
import { checkEnvironment } from '../../src/configurator/environment.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { freePort } from '../support/free-port.js';
import { pgSkip, pgUrl } from '../adapters/pg-support.js';
import { rabbitSkip, rabbitUrl } from '../support/rabbitmq.js';
import { startS3rver, type LocalS3 } from '../adapters/s3rver-support.js';

/**
 * The environment layer on this machine: services that do not answer, refuse the
 * credentials or refuse what a node does there, directories that cannot be written or read,
 * addresses that cannot be bound; each at the line that names them. (A deployment whose
 * services all answer is checked in test/e2e/config-cli.test.ts.)
 */

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-env-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function lineOf(files: DeploymentFile[], name: string, line: string): number {
  const index = files.find((f) => f.name === name)!.text.split('\n').indexOf(line);
  if (index < 0) throw new Error(`${name} has no line ${line}`);
  return index + 1;
}

/** One node file, `node.ini`, in a directory of its own (its data_dir), listening nowhere (port 0). */
function nodeFile(sections: string, roles = 'collector'): DeploymentFile {
  return { name: 'node.ini', text: `[node]\nname = probe\nroles = ${roles}\ndata_dir = ${tempDir()}\n\n[web]\nport = 0\n\n${sections}\n` };
}

async function environmentOf(files: DeploymentFile[], baseDir = tmpdir()): Promise<Finding[]> {
  return checkEnvironment(compileDeployment(files), { baseDir, timeoutMs: 3000 });
}

/** The same server and database as `url`, reached as `user` (or at `database`). */
function pgAs(url: string, change: { user?: string; database?: string }): string {
  const u = new URL(url);
  if (change.user !== undefined) {
    u.username = change.user;
    u.password = 'whatever';
  }
  if (change.database !== undefined) u.pathname = `/${change.database}`;
  return u.toString();
}

describe('checkEnvironment: services that do not answer', () => {
  it('reports a broker that does not answer, at the queue URL\'s line', async () => {
    const closed = await freePort();
    const files = presetFiles('distributed', ['elsewhere']).map((f) =>
      f.name === 'common.ini' ? { ...f, text: f.text.replace('amqp://guest:guest@elsewhere:5672', `amqp://guest:guest@127.0.0.1:${closed}`).replace(/postgres:\/\/mayday:mayday@elsewhere:5432/, `postgres://mayday:mayday@127.0.0.1:${closed}`) } : f,
    );
    const findings = await environmentOf(files);
    expect(findings).toContainEqual(
      expect.objectContaining({
        layer: 'environment',
        code: 'rabbitmq-unreachable',
        severity: 'error',
        file: 'common.ini',
        line: lineOf(files, 'common.ini', `url = amqp://guest:guest@127.0.0.1:${closed}`),
        message: expect.stringMatching(new RegExp(`^RabbitMQ at amqp://127\\.0\\.0\\.1:${closed} does not answer from this machine: .*ECONNREFUSED`)),
      }),
    );
    // Nodes on another host: their directories and ports are not this machine's to check.
    expect(findings.filter((f) => f.code === 'directory-not-writable' || f.code === 'port-unavailable')).toEqual([]);
  });

  it('reports an S3 endpoint that does not answer, at s3_endpoint\'s line', async () => {
    const closed = await freePort();
    const file = nodeFile(`[storage]\nbackend = s3\ns3_bucket = crashes\ns3_endpoint = http://127.0.0.1:${closed}\ns3_access_key_id = key\ns3_secret_access_key = secret`);
    expect(await environmentOf([file])).toEqual([
      expect.objectContaining({
        code: 's3-unreachable',
        severity: 'error',
        file: 'node.ini',
        line: lineOf([file], 'node.ini', `s3_endpoint = http://127.0.0.1:${closed}`),
        message: `the bucket crashes at http://127.0.0.1:${closed} does not answer from this machine: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${closed}`,
      }),
    ]);
  });
});

describe('checkEnvironment: this machine\'s directories and addresses', () => {
  it('reports a data directory that cannot be made once, at node.data_dir\'s line, not again for each path under it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), 'not a directory');
    const [file] = presetFiles('all-in-one');
    const text = file.text.replace('data_dir = ./var', `data_dir = ${join(dir, 'a-file', 'var')}`).replace('port = 8000', 'port = 0');
    expect(await environmentOf([{ ...file, text }], dir)).toEqual([
      expect.objectContaining({
        code: 'directory-not-writable',
        file: 'mayday.ini',
        line: text.split('\n').indexOf(`data_dir = ${join(dir, 'a-file', 'var')}`) + 1,
        message: `mayday cannot write ${join(dir, 'a-file', 'var')}: ${join(dir, 'a-file')} is not a directory`,
      }),
    ]);
  });

  it('checks queue.path, database.path, every symbols.paths entry, upstream_cache_path and signature_lists, each at its line', async () => {
    const dir = tempDir();
    // A file where each directory should be: the one mistake root can make here (it may write anywhere).
    for (const name of ['queue-file', 'db-file', 'store-file', 'cache-file', 'lists-file']) writeFileSync(join(dir, name), 'x');
    mkdirSync(join(dir, 'readable'));
    const file: DeploymentFile = {
      name: 'node.ini',
      text: [
        '[node]',
        'name = all',
        'roles = collector, processor, web, scheduler',
        `data_dir = ${join(dir, 'data')}`,
        '',
        '[web]',
        'port = 0',
        '',
        '[queue]',
        `path = ${join(dir, 'queue-file', 'queue.sqlite')}`,
        '',
        '[database]',
        `path = ${join(dir, 'db-file', 'mayday.sqlite')}`,
        '',
        '[symbols]',
        `paths = ${join(dir, 'store-file', 'symbols')}, ${join(dir, 'readable')}, ${join(dir, 'missing')}`,
        'upstream_urls = https://symbols.example.org/',
        `upstream_cache_path = ${join(dir, 'cache-file', 'cache')}`,
        '',
        '[processor]',
        `signature_lists = ${join(dir, 'lists-file')}`,
        '',
      ].join('\n'),
    };
    const line = (start: string): number => file.text.split('\n').findIndex((l) => l.startsWith(start)) + 1;
    const findings = await environmentOf([file], dir);
    expect(findings.map((f) => ({ code: f.code, severity: f.severity, line: f.line, message: f.message }))).toEqual([
      { code: 'directory-not-writable', severity: 'error', line: line('path = '), message: `all cannot write ${join(dir, 'queue-file', 'queue.sqlite')}: ${join(dir, 'queue-file')} is not a directory` },
      { code: 'directory-not-writable', severity: 'error', line: file.text.split('\n').indexOf(`path = ${join(dir, 'db-file', 'mayday.sqlite')}`) + 1, message: `all cannot write ${join(dir, 'db-file', 'mayday.sqlite')}: ${join(dir, 'db-file')} is not a directory` },
      { code: 'directory-not-writable', severity: 'error', line: line('paths = '), message: `all cannot write ${join(dir, 'store-file', 'symbols')}: ${join(dir, 'store-file')} is not a directory` },
      // The readable directory passes; the missing one, named by hand, does not.
      { code: 'directory-not-readable', severity: 'warning', line: line('paths = '), message: `all cannot read ${join(dir, 'missing')}: ${join(dir, 'missing')} does not exist` },
      { code: 'directory-not-writable', severity: 'error', line: line('upstream_cache_path = '), message: `all cannot write ${join(dir, 'cache-file', 'cache')}: ${join(dir, 'cache-file')} is not a directory` },
      { code: 'directory-not-readable', severity: 'warning', line: line('signature_lists = '), message: `all cannot read ${join(dir, 'lists-file')}: ${join(dir, 'lists-file')} is not a directory` },
    ]);
    expect(new Set(findings.map((f) => f.file))).toEqual(new Set(['node.ini']));
  });

  it('reports a web.host that is not an address of this machine (EADDRNOTAVAIL), at its line', async () => {
    const port = await freePort();
    // 192.0.2.0/24 is TEST-NET-1: documentation only, never configured on a real interface.
    const file: DeploymentFile = { name: 'node.ini', text: `[node]\nname = far\nroles = collector\ndata_dir = ${tempDir()}\n\n[web]\nhost = 192.0.2.1\nport = ${port}\n` };
    expect(await environmentOf([file])).toEqual([
      expect.objectContaining({ code: 'port-unavailable', severity: 'error', file: 'node.ini', line: 7, option: 'web.host', message: `far cannot listen on 192.0.2.1:${port}: this machine has no such address` }),
    ]);
  });
});

describe.skipIf(pgSkip !== false)(`checkEnvironment: PostgreSQL${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  const shown = (url: string): string => stripCredentials(url);
  const database = decodeURIComponent(new URL(pgUrl).pathname.slice(1));

  it('tells a refused login (a role that does not exist) from a server that does not answer', async () => {
    const role = `mayday_nobody_${randomBytes(4).toString('hex')}`;
    const url = pgAs(pgUrl, { user: role });
    const file = nodeFile(`[database]\nbackend = postgresql\nurl = ${url}`);
    expect(await environmentOf([file])).toEqual([
      expect.objectContaining({ code: 'postgres-refused', severity: 'error', file: 'node.ini', line: lineOf([file], 'node.ini', `url = ${url}`), message: `PostgreSQL at ${shown(url)} refused the credentials: role "${role}" does not exist` }),
    ]);
  });

  it('reports a database that does not exist (3D000) as such', async () => {
    const url = pgAs(pgUrl, { database: `mayday_none_${randomBytes(4).toString('hex')}` });
    const file = nodeFile(`[database]\nbackend = postgresql\nurl = ${url}`);
    expect(await environmentOf([file])).toEqual([
      expect.objectContaining({ code: 'postgres-database-missing', severity: 'error', line: lineOf([file], 'node.ini', `url = ${url}`), message: `PostgreSQL at ${shown(url)} refused the connection: database "${new URL(url).pathname.slice(1)}" does not exist` }),
    ]);
  });

  it('warns when the nodes\' pools add up to more connections than the server takes, at pool_size\'s line', async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    const { rows } = await client.query<{ max: string; reserved: string }>("SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved").finally(() => client.end());
    const available = Number(rows[0].max) - Number(rows[0].reserved);
    const nodes = Math.floor(available / 200) + 1;
    const common: DeploymentFile = { name: 'common.ini', text: `[database]\nbackend = postgresql\nurl = ${pgUrl}\npool_size = 200\n` };
    const files = [common, ...Array.from({ length: nodes }, (_, i) => ({ name: `n${i}.ini`, text: `include = common.ini\n\n[node]\nname = n${i}\nroles = collector\ndata_dir = ${tempDir()}\n\n[web]\nport = 0\n` }))];
    const findings = await environmentOf(files);
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'postgres-connections',
        severity: 'warning',
        file: 'common.ini',
        line: 4,
        message: `the ${nodes} nodes on ${shown(pgUrl)} may open ${nodes * 200} connections (database.pool_size each), but the server takes ${available} (max_connections ${rows[0].max} less ${rows[0].reserved} reserved)`,
      }),
    ]);
  });

  describe('rights: may the user create where the nodes put their tables', () => {
    const role = `mayday_cfg_${randomBytes(4).toString('hex')}`;
    const schema = `mayday_cfg_${randomBytes(4).toString('hex')}`;
    const admin = async (sql: string): Promise<void> => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    beforeAll(async () => {
      await admin(`CREATE ROLE ${role} LOGIN PASSWORD 'probe'`);
      await admin(`CREATE SCHEMA ${schema}`);
    });
    afterAll(async () => {
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin(`DROP ROLE IF EXISTS ${role}`);
    });

    it('reports a schema it may not create in, and a missing schema it may not create, each at database.schema\'s line', async () => {
      const url = pgAs(pgUrl, { user: role }).replace(':whatever@', ':probe@');
      const common: DeploymentFile = { name: 'common.ini', text: `[database]\nbackend = postgresql\nurl = ${url}\n` };
      const node = (name: string, own: string): DeploymentFile => ({ name: `${name}.ini`, text: `include = common.ini\n\n[node]\nname = ${name}\nroles = collector\ndata_dir = ${tempDir()}\n\n[web]\nport = 0\n\n[database]\nschema = ${own}\n` });
      const missing = `${schema}_missing`;
      const files = [common, node('a', schema), node('b', missing)];
      const findings = await environmentOf(files);
      expect(findings).toEqual([
        expect.objectContaining({ code: 'postgres-no-rights', severity: 'error', file: 'a.ini', line: lineOf(files, 'a.ini', `schema = ${schema}`), option: 'database.schema', message: `PostgreSQL at ${shown(url)}: ${role} may not create tables in schema ${schema} of database ${database}` }),
        expect.objectContaining({ code: 'postgres-no-rights', severity: 'error', file: 'b.ini', line: lineOf(files, 'b.ini', `schema = ${missing}`), option: 'database.schema', message: `PostgreSQL at ${shown(url)}: schema ${missing} does not exist in database ${database}, and ${role} may not create it` }),
      ]);
      // Given the right, the finding goes: the check reads the rights, not the role's name.
      await admin(`GRANT CREATE ON SCHEMA ${schema} TO ${role}`);
      expect((await environmentOf([common, node('a', schema)])).filter((f) => f.code === 'postgres-no-rights')).toEqual([]);
    });
  });
});

describe.skipIf(rabbitSkip !== false)(`checkEnvironment: RabbitMQ${rabbitSkip ? ` (skipped: ${rabbitSkip})` : ''}`, () => {
  const broker = new URL(rabbitUrl);
  const as = (user: string, password: string): string => `amqp://${user}:${password}@${broker.host}${broker.pathname === '/' ? '' : broker.pathname}`;

  it('reports wrong credentials as refused (ACCESS_REFUSED), not as a broker that does not answer', async () => {
    const url = as('bad', 'bad');
    const file = nodeFile(`[queue]\nbackend = rabbitmq\nurl = ${url}\n\n[database]\nbackend = postgresql\nurl = ${pgUrl}`);
    const findings = (await environmentOf([file])).filter((f) => f.option === 'queue.url');
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'rabbitmq-refused',
        severity: 'error',
        file: 'node.ini',
        line: lineOf([file], 'node.ini', `url = ${url}`),
        message: `RabbitMQ at ${stripCredentials(url)} refused the credentials: ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.`,
      }),
    ]);
  });

  // A user that may log in but do nothing: made with rabbitmqctl, which needs to run on the broker's machine.
  const user = `mayday-cfg-${randomBytes(4).toString('hex')}`;
  const ctl = (...args: string[]): Promise<unknown> => promisify(execFile)('rabbitmqctl', args, { timeout: 30_000 });
  let ctlSkip: string | false = false;
  beforeAll(async () => {
    try {
      await ctl('add_user', user, 'probe');
      await ctl('set_permissions', '-p', decodeURIComponent(broker.pathname.slice(1)) || '/', user, '^$', '^$', '^$');
    } catch (error) {
      ctlSkip = `rabbitmqctl cannot add a user here: ${(error as Error).message.split('\n')[0]}`;
    }
  }, 60_000);
  afterAll(async () => {
    if (!ctlSkip) await ctl('delete_user', user).catch(() => undefined);
  }, 60_000);

  it('reports a user that may connect but not declare the queues, at the queue URL\'s line', async (context) => {
    if (ctlSkip) context.skip(ctlSkip);
    const url = as(user, 'probe');
    const file = nodeFile(`[queue]\nbackend = rabbitmq\nurl = ${url}\nprefix = probe.\n\n[database]\nbackend = postgresql\nurl = ${pgUrl}`);
    const findings = (await environmentOf([file])).filter((f) => f.option === 'queue.url');
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'rabbitmq-no-rights',
        severity: 'error',
        line: lineOf([file], 'node.ini', `url = ${url}`),
        message: expect.stringMatching(
          new RegExp(`^RabbitMQ at ${stripCredentials(url).replace(/\./g, '\\.')} accepts the credentials, but may not declare queue probe\\.mayday-configurator-probe\\.[0-9a-f]{8}: ACCESS_REFUSED - access to queue 'probe\\.mayday-configurator-probe\\.[0-9a-f]{8}' in vhost '/' refused for user '${user}'$`),
        ),
      }),
    ]);
  });

  it('finds nothing to say about the right credentials, and leaves no probe queue behind', async () => {
    const file = nodeFile(`[queue]\nbackend = rabbitmq\nurl = ${rabbitUrl}\nprefix = probe.\n\n[database]\nbackend = postgresql\nurl = ${pgUrl}`);
    expect((await environmentOf([file])).filter((f) => f.option?.startsWith('queue.'))).toEqual([]);
  });
});

describe('checkEnvironment: S3', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3rver('crashes');
  });
  afterAll(async () => {
    await s3?.dispose();
  });
  const storage = (o: { bucket?: string; prefix?: string; key?: string }): string =>
    `[storage]\nbackend = s3\ns3_bucket = ${o.bucket ?? s3.bucket}\ns3_prefix = ${o.prefix ?? ''}\ns3_endpoint = ${s3.endpoint}\ns3_access_key_id = ${o.key ?? 'S3RVER'}\ns3_secret_access_key = S3RVER`;

  it('reports a bucket that does not exist, at s3_bucket\'s line', async () => {
    const file = nodeFile(storage({ bucket: 'nothing-here' }));
    expect(await environmentOf([file])).toEqual([
      expect.objectContaining({ code: 's3-bucket-missing', severity: 'error', line: lineOf([file], 'node.ini', 's3_bucket = nothing-here'), message: `the bucket nothing-here at ${s3.endpoint} does not exist` }),
    ]);
  });

  it('reports an access key the server does not know as refused credentials, at s3_access_key_id\'s line', async () => {
    const file = nodeFile(storage({ key: 'WRONG' }));
    expect(await environmentOf([file])).toEqual([
      expect.objectContaining({ code: 's3-refused', severity: 'error', line: lineOf([file], 'node.ini', 's3_access_key_id = WRONG'), message: `the bucket ${s3.bucket} at ${s3.endpoint} refused the credentials (HTTP 403)` }),
    ]);
  });

  it('writes and deletes a probe under the prefix: a bucket that answers but cannot take it is reported, at s3_bucket\'s line', async () => {
    const { existsSync, readdirSync } = await import('node:fs');
    const fine = nodeFile(storage({ prefix: 'ok/' }));
    expect(await environmentOf([fine])).toEqual([]);
    // Deleted again: nothing is left under the prefix.
    expect(existsSync(join(s3.directory, s3.bucket, 'ok')) ? readdirSync(join(s3.directory, s3.bucket, 'ok')) : []).toEqual([]);

    // s3rver keeps key a/b in directory a: a file there makes every write under blocked/ fail.
    writeFileSync(join(s3.directory, s3.bucket, 'blocked'), 'in the way');
    const file = nodeFile(storage({ prefix: 'blocked/' }));
    expect(await environmentOf([file])).toEqual([
      expect.objectContaining({
        code: 's3-no-rights',
        severity: 'error',
        line: lineOf([file], 'node.ini', `s3_bucket = ${s3.bucket}`),
        message: expect.stringMatching(new RegExp(`^the bucket ${s3.bucket} at ${s3.endpoint.replace(/\./g, '\\.')} answers, but the credentials may not write blocked/\\.mayday-configurator-probe there: .*\\(HTTP 500\\)$`)),
      }),
    ]);
  });
});
