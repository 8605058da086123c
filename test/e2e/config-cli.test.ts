import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentDiff } from '../../src/configurator/diff.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { corpusDumps } from '../support/corpus.js';
import { freePort } from '../support/free-port.js';
import { eventually, PROJECT_ROOT, runMayday, startMayday } from '../support/mayday-process.js';
import { pgSkip, pgUrl } from '../adapters/pg-support.js';
import { rabbitSkip, rabbitUrl } from '../support/rabbitmq.js';
import { startS3rver, type LocalS3 } from '../adapters/s3rver-support.js';

/** `mayday config ...` as an operator runs it: the built command on files in a directory. */

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-config-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function rewrite(path: string, change: (text: string) => string): void {
  writeFileSync(path, change(readFileSync(path, 'utf8')));
}

describe('mayday config init and validate', () => {
  it('examples/distributed is exactly what init --preset distributed writes', () => {
    for (const file of presetFiles('distributed')) expect(readFileSync(join(PROJECT_ROOT, 'examples/distributed', file.name), 'utf8'), file.name).toBe(file.text);
  });

  it('init writes an all-in-one deployment that validates clean, environment included, and refuses to overwrite it', async () => {
    const dir = tempDir();
    const init = await runMayday(['config', 'init', dir]);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['mayday.ini']);
    // The environment layer checks the port is free: give the file one that is.
    rewrite(join(dir, 'mayday.ini'), (t) => t.replace('port = 8000', 'port = 0'));
    const validate = await runMayday(['config', 'validate', dir]);
    expect(validate.stdout).toBe('1 node on 1 host in 1 file: no findings\n');
    expect(validate.code).toBe(0);
    const again = await runMayday(['config', 'init', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists: use --force to overwrite');
  });

  it('init --preset distributed --hosts spreads five nodes over three hosts, secrets in a private shared file', async () => {
    const dir = tempDir();
    expect((await runMayday(['config', 'init', dir, '--preset', 'distributed', '--hosts', 'a,b,c'])).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['collector.ini', 'common.ini', 'processor-1.ini', 'processor-2.ini', 'scheduler.ini', 'web.ini']);
    expect(statSync(join(dir, 'common.ini')).mode & 0o777).toBe(0o600);
    const validate = await runMayday(['config', 'validate', '--no-environment', dir]);
    expect(validate.stdout).toBe('5 nodes on 3 hosts in 6 files: no findings (environment not checked)\n');
    expect(validate.code).toBe(0);
  });

  it('exits 3 for schema errors and 4 for topology errors, with file:line findings, and --format json', async () => {
    const dir = tempDir();
    await runMayday(['config', 'init', dir, '--preset', 'distributed', '--hosts', 'a,b']);
    rewrite(join(dir, 'web.ini'), (t) => `${t}\n[queue]\nprefix = other.\n`);
    const topology = await runMayday(['config', 'validate', '--no-environment', dir]);
    expect(topology.code).toBe(4);
    const line = readFileSync(join(dir, 'web.ini'), 'utf8').split('\n').indexOf('prefix = other.') + 1;
    expect(topology.stdout).toContain(`${join(dir, 'web.ini')}:${line}: error: web puts crash ids on queues other.* (RabbitMQ a:5672), which no processor consumes`);
    expect(topology.stdout).toContain('hint: use the processors\' queue settings (queue.prefix) on web');

    rewrite(join(dir, 'collector.ini'), (t) => t.replace('port = 8101', 'prot = 8101'));
    const schema = await runMayday(['config', 'validate', '--no-environment', '--format', 'json', dir]);
    expect(schema.code).toBe(3);
    const report = JSON.parse(schema.stdout) as { exitCode: number; findings: { layer: string; code: string; file: string; line: number; message: string }[] };
    expect(report.exitCode).toBe(3);
    expect(report.findings.map((f) => `${f.layer}/${f.code}`).sort()).toEqual(['schema/unknown-option', 'topology/queue-unconsumed']);
    expect(report.findings.find((f) => f.layer === 'schema')).toMatchObject({ file: join(dir, 'collector.ini'), message: 'unknown option web.prot (did you mean "port"?)' });
  });

  it('a node file given alone is read with the file it includes', async () => {
    const dir = tempDir();
    await runMayday(['config', 'init', dir, '--preset', 'distributed']);
    const validate = await runMayday(['config', 'validate', '--no-environment', join(dir, 'collector.ini')]);
    // One node alone lacks a processor: the topology says so, which proves common.ini was read (no schema error).
    expect(validate.stdout).toContain('no node has the processor role');
    expect(validate.code).toBe(4);
  });

  it('--env applies MAYDAY_* variables to every node as mayday run does: a URL kept out of the files validates', async () => {
    const dir = tempDir();
    await runMayday(['config', 'init', dir, '--preset', 'distributed']);
    // What common.ini itself advises: the secret-bearing URL in the environment, not in the file.
    rewrite(join(dir, 'common.ini'), (t) => t.replace(/^url = postgres.*\n/m, ''));
    // The example's own URL: the deployment is then the example's, with one setting moved out of the files.
    const env = { MAYDAY_DATABASE_URL: 'postgres://mayday:mayday@127.0.0.1:5432/mayday' };
    const without = await runMayday(['config', 'validate', '--no-environment', dir], env);
    expect(without.code).toBe(3);
    expect(without.stdout).toContain(`${join(dir, 'common.ini')}:5: error: database.backend = postgresql needs database.url [schema/requirement]`);
    const withEnv = await runMayday(['config', 'validate', '--no-environment', '--env', dir], env);
    expect(withEnv.stdout).not.toContain('error:');
    expect(withEnv.code).toBe(0);
    // The secret itself is never printed, wherever it came from.
    expect(withEnv.stdout).not.toContain('mayday:mayday@');
    // graph and diff read the same environment.
    expect((await runMayday(['config', 'graph', '--format', 'json', dir], env)).code).toBe(3);
    const graph = await runMayday(['config', 'graph', '--format', 'json', '--env', dir], env);
    expect(graph.code).toBe(0);
    expect(JSON.stringify(JSON.parse(graph.stdout).graph.resources)).toContain('PostgreSQL 127.0.0.1:5432/mayday');
    const original = tempDir();
    await runMayday(['config', 'init', original, '--preset', 'distributed']);
    expect((await runMayday(['config', 'diff', original, dir], env)).stdout).toContain('database.url');
    const diff = await runMayday(['config', 'diff', '--env', original, dir], env);
    expect(diff).toMatchObject({ code: 0, stdout: 'no differences\n' });
  });

  it('validate --help documents --env and the exit codes the command really uses; security findings only warn', async () => {
    const help = await runMayday(['config', 'validate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--env');
    expect(help.stdout).toContain('MAYDAY_SECTION_KEY');
    const { EXIT_CODES } = await import('../../src/cli/commands/config.js');
    const listed = [...help.stdout.matchAll(/^ {2}(\d) {2}/gm)].map((m) => Number(m[1]));
    expect(listed).toEqual([0, 2, EXIT_CODES.schema, EXIT_CODES.topology, EXIT_CODES.environment]);
    expect(help.stdout).toContain('Security findings are warnings');

    // A web node on every interface: a security warning, and the exit code stays 0.
    const dir = tempDir();
    await runMayday(['config', 'init', dir]);
    rewrite(join(dir, 'mayday.ini'), (t) => t.replace('host = 127.0.0.1', 'host = 0.0.0.0'));
    const validate = await runMayday(['config', 'validate', '--no-environment', '--format', 'json', dir]);
    const report = JSON.parse(validate.stdout) as { findings: { layer: string; severity: string }[] };
    expect(report.findings.filter((f) => f.layer === 'security').map((f) => f.severity)).toEqual(['warning']);
    expect(validate.code).toBe(0);
  });

  it('exits 6 when a service does not answer', async () => {
    const dir = tempDir();
    await runMayday(['config', 'init', dir, '--preset', 'distributed']);
    const closed = await freePort();
    rewrite(join(dir, 'common.ini'), (t) => t.replace('127.0.0.1:5432', `127.0.0.1:${closed}`));
    for (const node of ['collector', 'processor-1', 'processor-2', 'web', 'scheduler']) rewrite(join(dir, `${node}.ini`), (t) => t.replace(/port = \d+/, 'port = 0'));
    const validate = await runMayday(['config', 'validate', dir]);
    expect(validate.code).toBe(6);
    expect(validate.stdout).toMatch(new RegExp(`common\\.ini:6: error: PostgreSQL at postgres://127\\.0\\.0\\.1:${closed}/mayday does not answer from this machine: ECONNREFUSED`));
  });

  it('a port in use on this machine is an environment error at its line', async () => {
    const dir = tempDir();
    await runMayday(['config', 'init', dir]);
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      rewrite(join(dir, 'mayday.ini'), (t) => t.replace('port = 8000', `port = ${port}`));
      const validate = await runMayday(['config', 'validate', dir]);
      expect(validate.code).toBe(6);
      expect(validate.stdout).toContain(`mayday.ini:11: error: mayday cannot listen on 127.0.0.1:${port}: something already listens there`);
    } finally {
      server.close();
    }
  });
});

describe.skipIf(pgSkip || rabbitSkip)('mayday config validate against real services', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3rver('mayday-crashes');
  });
  afterAll(async () => {
    await s3?.dispose();
  });

  it('the distributed preset pointed at this machine\'s PostgreSQL, RabbitMQ and S3 validates clean; a missing bucket is reported', async () => {
    const dir = tempDir();
    await runMayday(['config', 'init', dir, '--preset', 'distributed']);
    rewrite(join(dir, 'common.ini'), (t) =>
      t
        .replace(/^url = postgres.*$/m, `url = ${pgUrl}`)
        .replace(/^url = amqp.*$/m, `url = ${rabbitUrl}`)
        .replaceAll('http://127.0.0.1:9000', s3.endpoint)
        .replaceAll('s3_access_key_id = mayday', 's3_access_key_id = S3RVER')
        .replaceAll('s3_secret_access_key = mayday-secret', 's3_secret_access_key = S3RVER')
        .replace('s3_bucket = mayday-symbols', 's3_bucket = mayday-crashes'),
    );
    for (const node of ['collector', 'processor-1', 'processor-2', 'web', 'scheduler']) rewrite(join(dir, `${node}.ini`), (t) => t.replace(/port = \d+/, 'port = 0'));
    const clean = await runMayday(['config', 'validate', dir]);
    expect(clean.stdout).toBe('5 nodes on 1 host in 6 files: no findings\n');
    expect(clean.code).toBe(0);

    rewrite(join(dir, 'common.ini'), (t) => t.replace('[symbols]\nstore = s3\ns3_bucket = mayday-crashes', '[symbols]\nstore = s3\ns3_bucket = mayday-nothing'));
    const missing = await runMayday(['config', 'validate', dir]);
    expect(missing.code).toBe(6);
    expect(missing.stdout).toContain(`error: the bucket mayday-nothing at ${s3.endpoint} does not exist`);
  });
});

describe('mayday config graph, explain and diff', () => {
  it('draws the example deployment as SVG, PNG, DOT, Mermaid and JSON', async () => {
    const example = join(PROJECT_ROOT, 'examples/distributed');
    const svg = await runMayday(['config', 'graph', example, '--format', 'svg']);
    expect(svg.code).toBe(0);
    expect(svg.stdout).toMatch(/^(<\?xml[^>]*>\s*)?<svg/);
    for (const name of ['collector', 'processor-1', 'processor-2', 'web', 'scheduler']) expect(svg.stdout).toContain(`data-id="node:${name}"`);
    const dir = tempDir();
    const png = await runMayday(['config', 'graph', example, '--format', 'png', '-o', join(dir, 'graph.png')]);
    expect(png.code).toBe(0);
    expect(readFileSync(join(dir, 'graph.png')).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const dot = await runMayday(['config', 'graph', example, '--format', 'dot']);
    expect(dot.stdout).toMatch(/^digraph /);
    const mermaid = await runMayday(['config', 'graph', example, '--format', 'mermaid']);
    expect(mermaid.stdout).toMatch(/^flowchart /);
    const json = JSON.parse((await runMayday(['config', 'graph', example, '--format', 'json'])).stdout) as { graph: { nodes: unknown[]; edges: unknown[] } };
    expect(json.graph.nodes).toHaveLength(5);
  });

  it('explains an option from the schema, and suggests on a typo', async () => {
    const explain = await runMayday(['config', 'explain', 'queue.prefix']);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('queue.prefix (string)');
    expect(explain.stdout).toContain('default: mayday.');
    expect(explain.stdout).toContain('environment: MAYDAY_QUEUE_PREFIX');
    const typo = await runMayday(['config', 'explain', 'queue.prefx']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('queue.prefx: no such option (did you mean "queue.prefix"?)');
  });

  it('diffs two deployments option by option and in the graph', async () => {
    const dir = tempDir();
    cpSync(join(PROJECT_ROOT, 'examples/distributed'), dir, { recursive: true });
    rewrite(join(dir, 'web.ini'), (t) => `${t}\n[queue]\nprefix = other.\n`);
    rmSync(join(dir, 'processor-2.ini'));
    const diff = await runMayday(['config', 'diff', join(PROJECT_ROOT, 'examples/distributed'), dir]);
    expect(diff.code).toBe(1);
    const line = readFileSync(join(dir, 'web.ini'), 'utf8').split('\n').indexOf('prefix = other.') + 1;
    expect(diff.stdout).toContain('- node processor-2');
    expect(diff.stdout).toContain(`~ web: queue.prefix: mayday. -> other. (${join(dir, 'web.ini')}:${line})`);
    expect(diff.stdout).toContain('+ resource queues other.* (RabbitMQ 127.0.0.1:5672)');
    expect(diff.stdout).toContain('- edge queues mayday.* (RabbitMQ 127.0.0.1:5672) -> processor-2: crash ids');
    const same = await runMayday(['config', 'diff', join(PROJECT_ROOT, 'examples/distributed'), join(PROJECT_ROOT, 'examples/distributed')]);
    expect(same).toMatchObject({ code: 0, stdout: 'no differences\n' });
  });

  it('diff --format json prints the whole diff, findings that appeared and went away included, with the same exit codes', async () => {
    const example = join(PROJECT_ROOT, 'examples/distributed');
    const dir = tempDir();
    cpSync(example, dir, { recursive: true });
    rewrite(join(dir, 'web.ini'), (t) => `${t}\n[queue]\nprefix = other.\n`);
    rewrite(join(dir, 'common.ini'), (t) => t.replaceAll('s3_secret_access_key = mayday-secret', 's3_secret_access_key = n3w-s3cr3t'));
    const json = await runMayday(['config', 'diff', '--format', 'json', example, dir]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(1);
    const diff = JSON.parse(json.stdout) as DeploymentDiff;
    expect(Object.keys(diff).sort()).toEqual(['edgesAdded', 'edgesRemoved', 'findingsNew', 'findingsResolved', 'nodesAdded', 'nodesRemoved', 'options', 'resourcesAdded', 'resourcesRemoved']);
    const line = readFileSync(join(dir, 'web.ini'), 'utf8').split('\n').indexOf('prefix = other.') + 1;
    expect(diff.options.filter((o) => o.node === 'web' && o.option === 'queue.prefix')).toEqual([{ node: 'web', option: 'queue.prefix', before: 'mayday.', after: 'other.', at: `${join(dir, 'web.ini')}:${line}` }]);
    // A secret changed is named, never shown, on every node that reads it.
    const secret = diff.options.filter((o) => o.option === 'storage.s3_secret_access_key');
    expect(secret.map((o) => o.node).sort()).toEqual(['collector', 'processor-1', 'processor-2', 'scheduler', 'web']);
    expect(secret.every((o) => o.before === '(secret)' && o.after === '(secret, changed)')).toBe(true);
    expect(json.stdout).not.toContain('n3w-s3cr3t');
    expect(diff.nodesAdded).toEqual([]);
    expect(diff.nodesRemoved).toEqual([]);
    expect(diff.resourcesAdded).toEqual(['queues other.* (RabbitMQ 127.0.0.1:5672)']);
    expect(diff.resourcesRemoved).toEqual([]);
    expect(diff.edgesAdded).toEqual(['web -> queues other.* (RabbitMQ 127.0.0.1:5672): crash ids']);
    expect(diff.edgesRemoved).toEqual(['web -> queues mayday.* (RabbitMQ 127.0.0.1:5672): crash ids']);
    // The mistake B makes is a new finding, at its line in B; A had none to resolve.
    expect(diff.findingsNew.map(({ layer, code, severity, file, line: at, option, hint }) => ({ layer, code, severity, file, line: at, option, hint }))).toEqual([
      { layer: 'topology', code: 'queue-unconsumed', severity: 'error', file: join(dir, 'web.ini'), line, option: 'queue.prefix', hint: 'use the processors\' queue settings (queue.prefix) on web' },
    ]);
    expect(diff.findingsResolved).toEqual([]);
    // B to A: the same finding, now resolved.
    const back = JSON.parse((await runMayday(['config', 'diff', '--format', 'json', dir, example])).stdout) as DeploymentDiff;
    expect(back.findingsNew).toEqual([]);
    expect(back.findingsResolved.map((f) => `${f.code} ${f.file}:${f.line}`)).toEqual([`queue-unconsumed ${join(dir, 'web.ini')}:${line}`]);

    const same = await runMayday(['config', 'diff', '--format', 'json', example, example]);
    expect(same.code).toBe(0);
    expect(Object.values(JSON.parse(same.stdout) as DeploymentDiff).every((list: unknown[]) => list.length === 0)).toBe(true);
  });
});

describe('the all-in-one preset runs', () => {
  it('starts unchanged with mayday run and takes a crash', async () => {
    const dir = tempDir();
    await runMayday(['config', 'init', dir]);
    // Only where it listens and keeps its data change, from the environment as in production.
    const node = await startMayday(['run', '--config', join(dir, 'mayday.ini')], { MAYDAY_WEB_PORT: '0', MAYDAY_NODE_DATA_DIR: join(dir, 'var') }, 60_000);
    try {
      const [dump] = corpusDumps();
      const form = new FormData();
      form.append('ProductName', 'ConfigPreset');
      form.append('Version', '1.0');
      form.append('upload_file_minidump', new Blob([readFileSync(dump.path)]), 'crash.dmp');
      const answer = await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text();
      const crashId = /^CrashID=bp-([0-9a-f-]{36})\n$/.exec(answer)?.[1];
      expect(crashId, answer).toBeDefined();
      const processed = await eventually(async () => {
        const response = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${crashId}`);
        return response.ok ? ((await response.json()) as { signature: string; product: string; reason: string }) : undefined;
      }, 30_000, 'the crash to be processed');
      expect(processed.product).toBe('ConfigPreset');
      expect(processed.reason).toBe(dump.expected.reason);
      expect(processed.signature).not.toBe('');
    } finally {
      await node.stop('SIGTERM');
    }
  }, 90_000);
});
