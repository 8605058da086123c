/**
 * nginx in front of two collectors of the distributed deployment (examples/distributed/,
 * with its nginx.conf, ports replaced), a processor and a web node, each a real process on
 * PostgreSQL, RabbitMQ and an S3 server started here. Breakpad's own `minidump_upload`
 * submits through nginx: the crashes are spread over both collectors, processed and found
 * through the web node; with one collector stopped, every submission still succeeds.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleDeploymentEnv, s3Settings, stopNodes } from '../support/distributed-deployment.js';
import { startS3rver, type LocalS3 } from '../adapters/s3rver-support.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from '../adapters/pg-support.js';
import { ensureMinidumpUpload } from '../roles/collector/breakpad-tools.js';
import { corpusDumps } from '../support/corpus.js';
import { PROJECT_ROOT, eventually, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { deleteQueues, rabbitSkip, rabbitUrl } from '../support/rabbitmq.js';

const run = promisify(execFile);
const EXAMPLE = join(PROJECT_ROOT, 'examples/distributed/nginx.conf');

/** Debian puts nginx in /usr/sbin, which is not on every user's PATH. */
function findNginx(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined;
  }
}

const nginx = findNginx();
const upload = ensureMinidumpUpload();
const skip: string | false =
  pgSkip || rabbitSkip || (nginx === undefined ? 'nginx is not installed (apt-get install nginx-light; .ci/run installs it)' : false) || ('missing' in upload ? upload.missing : false);

/**
 * The example configuration with this test's ports. Every replacement must apply exactly
 * once: an example that changed shape fails here instead of drifting from what is tested.
 */
function nginxConfig(listen: number, collectors: [number, number], web: number): string {
  let text = readFileSync(EXAMPLE, 'utf8');
  const replace = (from: string, to: string): void => {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`examples/distributed/nginx.conf: expected "${from}" once, found it ${count} times`);
    text = text.replace(from, to);
  };
  replace('listen 127.0.0.1:8000;', `listen 127.0.0.1:${listen};`);
  replace('server 127.0.0.1:8101 ', `server 127.0.0.1:${collectors[0]} `);
  replace('server 127.0.0.1:8102 ', `server 127.0.0.1:${collectors[1]} `);
  replace('server 127.0.0.1:8100;', `server 127.0.0.1:${web};`);
  return text;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const portOf = (url: string): number => Number(new URL(url).port);

function crashIdOf(text: string): string {
  const match = /CrashID=bp-([0-9a-f-]{36})/.exec(text);
  if (!match) throw new Error(`no CrashID in ${JSON.stringify(text)}`);
  return match[1];
}

/** The collector's count of accepted submissions, from its Prometheus /metrics. */
async function acceptedBy(collector: string): Promise<number> {
  const text = await (await fetch(`${collector}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('mayday_collector_submissions_total{') && l.includes('outcome="accepted"'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe.skipIf(skip !== false)(`nginx in front of two collectors of the distributed deployment${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let s3: LocalS3;
  let root: string;
  let nginxDir: string;
  let balancer: ChildProcess | undefined;
  let balancerExited: Promise<unknown> | undefined;
  let lb: string;
  let collectorPorts: [number, number];
  const schema = freshSchema();
  const prefix = `mayday_test_${randomBytes(4).toString('hex')}.`;
  const running = new Map<string, MaydayProcess>();
  let env: Record<string, string>;
  const dumps = corpusDumps();

  const config = (file: string) => `examples/distributed/${file}.ini`;
  const envOf = (node: string, extra: Record<string, string> = {}) => ({ ...env, MAYDAY_NODE_DATA_DIR: join(root, node), ...extra });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mayday-lb-'));
    s3 = await startS3rver('mayday-crashes');
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.options.accessKeyId, secretAccessKey: s3.options.secretAccessKey } });
    await client.send(new CreateBucketCommand({ Bucket: 'mayday-symbols' }));
    client.destroy();
    env = {
      ...exampleDeploymentEnv({ postgresUrl: pgUrl, schema, rabbitUrl, prefix, s3: s3Settings(s3) }),
      MAYDAY_LOG_LEVEL: 'info',
      MAYDAY_WEB_API_RATE_LIMIT: '100000',
    };
    // The web node first: it creates the tables the others then find.
    running.set('web', await startMayday(['run', '--config', config('web')], envOf('web')));
    const [a, b, processor] = await Promise.all([
      startMayday(['run', '--config', config('collector')], envOf('collector-a', { MAYDAY_NODE_NAME: 'collector-a' })),
      startMayday(['run', '--config', config('collector')], envOf('collector-b', { MAYDAY_NODE_NAME: 'collector-b' })),
      startMayday(['run', '--config', config('processor-1')], envOf('processor-1')),
    ]);
    running.set('collector-a', a).set('collector-b', b).set('processor-1', processor);
    collectorPorts = [portOf(a.url), portOf(b.url)];

    // nginx as a child of the test, everything under its own prefix directory. As root,
    // its workers run as another user, who must be able to reach the temporary directories.
    nginxDir = join(root, 'nginx');
    mkdirSync(nginxDir);
    chmodSync(root, 0o755);
    chmodSync(nginxDir, 0o755);
    const port = await freePort();
    writeFileSync(join(nginxDir, 'nginx.conf'), nginxConfig(port, collectorPorts, portOf(running.get('web')!.url)));
    const child = spawn(nginx!, ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    balancer = child;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    balancerExited = new Promise((resolve) => child.on('exit', resolve));
    lb = `http://127.0.0.1:${port}`;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}${readFileSync(join(nginxDir, 'error.log'), 'utf8')}`);
        return (await fetch(`${lb}/__lbheartbeat__`).catch(() => undefined))?.status === 200 ? true : undefined;
      },
      10_000,
      'nginx to answer',
    );
  }, 60_000);

  afterAll(async () => {
    balancer?.kill('SIGTERM');
    await balancerExited;
    await stopNodes(running);
    await s3?.dispose();
    if (skip === false) {
      await dropSchema(schema);
      await deleteQueues(prefix);
    }
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  /** One crash through nginx with Breakpad's minidump_upload, as a Breakpad client sends it. */
  async function submitThroughBalancer(i: number): Promise<string> {
    const { stdout, stderr } = await run((upload as { path: string }).path, ['-p', 'BreakpadApp', '-v', '1.2.3', dumps[i % dumps.length].path, `${lb}/submit`]);
    return crashIdOf(stdout + stderr);
  }

  /** Waits until the web node, asked through nginx, finds every one of `ids`. */
  async function searchable(ids: string[]): Promise<string[]> {
    const query = ids.map((id) => `uuid=${id}`).join('&');
    const found = await eventually(
      async () => {
        const result = (await (await fetch(`${lb}/api/SuperSearch/?${query}&_columns=uuid&_results_number=100`)).json()) as { total: number; hits: { uuid: string }[] };
        return result.total >= ids.length ? result : undefined;
      },
      30_000,
      `${ids.length} crashes in the index`,
    );
    return found.hits.map((h) => h.uuid).sort();
  }

  it("takes Breakpad's minidump_upload through nginx, spreads it over both collectors, and keeps taking crashes with one collector stopped", async () => {
    const [a, b] = [running.get('collector-a')!.url, running.get('collector-b')!.url];
    const before = [await acceptedBy(a), await acceptedBy(b)];
    expect(before).toEqual([0, 0]);

    const first: string[] = [];
    for (let i = 0; i < 8; i++) first.push(await submitThroughBalancer(i));
    const spread = [await acceptedBy(a), await acceptedBy(b)];
    // Round robin over two: each collector took a share, together every crash.
    expect(spread[0] + spread[1]).toBe(8);
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(2);

    // Processed by the processor and found through the web node (behind the same nginx).
    expect(await searchable(first)).toEqual([...first].sort());
    const crash = (await (await fetch(`${lb}/api/ProcessedCrash/?crash_id=${first[0]}`)).json()) as { uuid: string; success: boolean; signature: string; product: string };
    expect(crash).toMatchObject({ uuid: first[0], success: true, product: 'BreakpadApp' });
    expect(crash.signature).toBeTruthy();

    // One collector stopped: nginx sends everything to the other one.
    const logged = readFileSync(join(nginxDir, 'error.log'), 'utf8').length;
    const stopped = running.get('collector-b')!;
    stopped.child.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    const second: string[] = [];
    for (let i = 0; i < 6; i++) second.push(await submitThroughBalancer(i));
    expect(await acceptedBy(a)).toBe(spread[0] + 6);
    expect(await searchable(second)).toEqual([...second].sort());
    // The failover path was taken, not merely a rotation that skipped the stopped one:
    // nginx tried the stopped collector, logged its failure, and passed the crash on.
    const errors = readFileSync(join(nginxDir, 'error.log'), 'utf8').slice(logged);
    expect(errors).toContain(`upstream: "http://127.0.0.1:${collectorPorts[1]}/submit"`);
  }, 60_000);
});
