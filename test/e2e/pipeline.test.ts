import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { corpusDumps } from '../support/corpus.js';
import { eventually, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';

/**
 * The whole pipeline as a user runs it: `mayday start` on a fresh data directory, crashes
 * submitted over HTTP as Breakpad clients send them, results read back through the API.
 */

const dumps = corpusDumps();
const dataDirs: string[] = [];
function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-e2e-'));
  dataDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function submit(url: string, dumpPath: string | undefined, fields: Record<string, string>): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (dumpPath) form.append('upload_file_minidump', new Blob([readFileSync(dumpPath)]), 'crash.dmp');
  return fetch(`${url}/submit`, { method: 'POST', body: form });
}

function crashIdOf(answer: string): string {
  const match = /^CrashID=bp-([0-9a-f-]{36})\n$/.exec(answer);
  if (!match) throw new Error(`not a CrashID answer: ${JSON.stringify(answer)}`);
  return match[1];
}

async function processed(url: string, crashId: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const response = await fetch(`${url}/api/ProcessedCrash/?crash_id=${crashId}`);
      return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
    },
    timeoutMs,
    `crash ${crashId} to be processed`,
  );
}

describe('mayday start, end to end', () => {
  let node: MaydayProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = freshDataDir();
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
  });
  afterAll(async () => {
    await node?.stop('SIGINT');
  });

  it('prints a ready-to-paste curl command, which works as printed', async () => {
    // startMayday may resolve on the node's stdout log a moment before the banner arrives on stderr.
    const line = await eventually(async () => node.stderr().split('\n').find((l) => l.trim().startsWith('curl ')), 5_000, 'the banner');
    expect(line).toContain(`${node.url}/submit`);
    const answer = execFileSync('sh', ['-c', line.trim()]).toString();
    const crash = await processed(node.url, crashIdOf(answer));
    expect(crash.product).toBe('Example');
    expect(crash.reason).toBe('SIGSEGV /SEGV_MAPERR');
  });

  it.each(dumps.map((d) => [d.name, d] as const))('processes %s within 5 seconds, with its module list and crash reason', async (_name, dump) => {
    const response = await submit(node.url, dump.path, { ProductName: 'Example', Version: '1.0', ReleaseChannel: 'nightly' });
    expect(response.status).toBe(200);
    const crashId = crashIdOf(await response.text());
    const crash = await processed(node.url, crashId);
    expect(crash).toMatchObject({ uuid: crashId, product: 'Example', version: '1.0', release_channel: 'nightly', os_name: 'Linux', cpu_arch: 'amd64' });
    expect(crash.reason).toBe(dump.expected.reason);
    expect(BigInt(crash.address as string)).toBe(BigInt(dump.expected.address));
    expect(crash.crashing_thread).toBe(dump.expected.crashingThread);
    const modules = (crash.json_dump as { modules: { filename: string; debug_id: string; base_addr: string; end_addr: string }[] }).modules;
    expect(modules.map((m) => [m.filename, m.debug_id, BigInt(m.base_addr), BigInt(m.end_addr) - 1n])).toEqual(
      dump.expected.modules.map((m) => [m.file, m.debugId, BigInt(m.base), BigInt(m.end)]),
    );

    const raw = (await (await fetch(`${node.url}/api/RawCrash/?crash_id=${crashId}`)).json()) as Record<string, unknown>;
    expect(raw).toMatchObject({ ProductName: 'Example', Version: '1.0', uuid: crashId });
  });

  it('shows processed crashes on the web page', async () => {
    const html = await (await fetch(`${node.url}/`)).text();
    expect(html).toContain('Latest crashes');
    expect(html).toContain('SIGSEGV /SEGV_MAPERR');
  });

  it('refuses a body that is not multipart, and stores nothing for it', async () => {
    const before = await countRawCrashes(dataDir);
    const response = await fetch(`${node.url}/submit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ProductName":"x"}' });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/^Discarded=malformed_wrong_content_type\n/);
    const none = await fetch(`${node.url}/submit`, { method: 'POST' });
    expect(none.status).toBe(400);
    expect(await none.text()).toMatch(/^Discarded=malformed_no_content_type\n/);
    expect(await countRawCrashes(dataDir)).toBe(before);
  });

  it('refuses a submission with neither annotations nor a dump, or with no annotations', async () => {
    const empty = await submit(node.url, undefined, {});
    expect(empty.status).toBe(400);
    expect(await empty.text()).toMatch(/^Discarded=malformed_no_annotations\n/);
    const dumpOnly = await submit(node.url, dumps[0].path, {});
    expect(dumpOnly.status).toBe(400);
    expect(readdirSync(join(dataDir, 'raw', '.incoming'))).toEqual([]);
  });

  it('accepts a truncated dump and records the parse error on the processed crash', async () => {
    const truncated = join(freshDataDir(), 'truncated.dmp');
    writeFileSync(truncated, readFileSync(dumps[0].path).subarray(0, 3000));
    const response = await submit(node.url, truncated, { ProductName: 'Example', Version: '1.0' });
    expect(response.status).toBe(200);
    const crash = await processed(node.url, crashIdOf(await response.text()));
    expect(crash.processor_notes).toMatch(/stackwalk: /);
    expect(crash.mdsw_status_string).not.toBe('OK');
  });

  it('accepts a crash with a dump that is not a minidump, and says so', async () => {
    const notDump = join(freshDataDir(), 'text.dmp');
    writeFileSync(notDump, 'this is not a minidump');
    const response = await submit(node.url, notDump, { ProductName: 'Example', Version: '1.0' });
    expect(response.status).toBe(200);
    const crash = await processed(node.url, crashIdOf(await response.text()));
    expect(crash.processor_notes).toContain('collector: upload_file_minidump is not a minidump');
  });

  it('answers the Dockerflow health endpoints', async () => {
    expect((await fetch(`${node.url}/__lbheartbeat__`)).status).toBe(200);
    const heartbeat = await fetch(`${node.url}/__heartbeat__`);
    expect(heartbeat.status).toBe(200);
    expect(await heartbeat.json()).toMatchObject({ status: 'ok', checks: { raw_crash_store: { status: 'ok' }, queue: { status: 'ok' }, crash_index: { status: 'ok' } } });
    expect(await (await fetch(`${node.url}/__version__`)).json()).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('answers API errors with a status and a message', async () => {
    const bad = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=nope`);
    expect(bad.status).toBe(400);
    const missing = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=00000000-0000-0000-0000-000000261128`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'crash not found' });
  });
});

describe('durability', () => {
  it('loses no acknowledged crash when killed with SIGKILL right after answering', async () => {
    const dataDir = freshDataDir();
    // A collector-only node: crashes are acknowledged and queued, never processed, so the
    // kill certainly lands before processing.
    const config = join(dataDir, 'collector.ini');
    writeFileSync(config, '[node]\nroles = collector, web\n');
    const first = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--config', config]);
    const answers = await Promise.all(dumps.slice(0, 6).map((d) => submit(first.url, d.path, { ProductName: 'Example', Version: '2.0' })));
    const ids = await Promise.all(answers.map(async (a) => crashIdOf(await a.text())));
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    try {
      for (const id of ids) expect((await processed(second.url, id, 10_000)).version).toBe('2.0');
    } finally {
      await second.stop('SIGINT');
    }
  });

  it('loses nothing when killed while crashes are being submitted and processed', async () => {
    const dataDir = freshDataDir();
    const node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    const acknowledged: string[] = [];
    const inFlight = Array.from({ length: 24 }, async (_, i) => {
      try {
        const response = await submit(node.url, dumps[i % dumps.length].path, { ProductName: 'Example', Version: '3.0' });
        if (response.status === 200) acknowledged.push(crashIdOf(await response.text()));
      } catch {
        // Cut off by the kill: never acknowledged, so the client would retry.
      }
    });
    await eventually(async () => (acknowledged.length >= 3 ? true : undefined), 10_000, 'a few acknowledgements');
    node.child.kill('SIGKILL');
    await Promise.all(inFlight);
    await node.exited;

    const restarted = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    try {
      for (const id of acknowledged) expect((await processed(restarted.url, id, 10_000)).version).toBe('3.0');
    } finally {
      await restarted.stop('SIGINT');
    }
    expect(readdirSync(join(dataDir, 'raw', '.incoming'))).toEqual([]);
  });

  it('shuts down cleanly on SIGINT', async () => {
    const dataDir = freshDataDir();
    const node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    const response = await submit(node.url, dumps[0].path, { ProductName: 'Example', Version: '1.0' });
    crashIdOf(await response.text());
    node.child.kill('SIGINT');
    expect(await node.exited).toBe(0);
    expect(node.stdout()).toContain('mayday node stopped');
    expect(readdirSync(join(dataDir, 'raw', '.incoming'))).toEqual([]);
  });
});

describe('configuration errors', () => {
  it('stop start-up with every error as file:line, and no stack trace', async () => {
    const dir = freshDataDir();
    const config = join(dir, 'bad.ini');
    writeFileSync(config, '[web]\nport = eighty\n[qeue]\npath = x\n[node]\nroles = collector, brewer\n');
    const result = await runMayday(['start', '--data-dir', dir, '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${config}:2: error: web.port: expected an integer, got "eighty"`);
    expect(result.stderr).toContain(`${config}:3: error: unknown section [qeue] (did you mean "queue"?)`);
    expect(result.stderr).toContain(`${config}:6: error: node.roles: unknown value "brewer"`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('stop start-up on a signature list with a bad regular expression, naming file and line', async () => {
    const dir = freshDataDir();
    const lists = join(dir, 'lists');
    mkdirSync(lists);
    writeFileSync(join(lists, 'irrelevant.txt'), '# my list\nfine_frame\nbroken(\n');
    const config = join(dir, 'node.ini');
    writeFileSync(config, `[processor]\nsignature_lists = ${lists}\n`);
    const result = await runMayday(['start', '--data-dir', dir, '--port', '0', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(lists, 'irrelevant.txt')}:3:`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('names a configuration file that cannot be read', async () => {
    const result = await runMayday(['start', '--config', '/nonexistent/mayday.ini']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/nonexistent/mayday.ini: cannot read the configuration file: ENOENT');
  });
});

async function countRawCrashes(dataDir: string): Promise<number> {
  const root = join(dataDir, 'raw');
  return readdirSync(root)
    .filter((d) => /^\d{8}$/.test(d))
    .reduce((n, day) => n + readdirSync(join(root, day)).length, 0);
}
