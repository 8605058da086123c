import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { corpusDumps } from '../support/corpus.js';
import { eventually, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { ensureMinidumpUpload } from '../roles/collector/breakpad-tools.js';
import { FsRawCrashStore } from '../../src/adapters/fs-raw-crash-store.js';
import { SqliteQueue } from '../../src/adapters/sqlite-queue.js';

/**
 * The collector with real clients: Breakpad's own `minidump_upload`, curl as the README
 * shows, a Crashpad-style gzip+chunked body with Electron's field set, `mayday submit`,
 * and SIGKILL under load.
 */

const run = promisify(execFile);
const dumps = corpusDumps();
const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-collector-e2e-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function crashIdOf(text: string): string {
  const match = /CrashID=bp-([0-9a-f-]{36})/.exec(text);
  if (!match) throw new Error(`no CrashID in ${JSON.stringify(text)}`);
  return match[1];
}

async function rawCrash(url: string, id: string): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const response = await fetch(`${url}/api/RawCrash/?crash_id=${id}`);
      return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
    },
    5000,
    `raw crash ${id}`,
  );
}

const upload = ensureMinidumpUpload();

describe('real clients against mayday start', () => {
  let node: MaydayProcess;
  beforeAll(async () => {
    const dataDir = freshDir();
    const config = join(dataDir, 'collector.ini');
    writeFileSync(config, '[node]\nroles = collector, web\n');
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--config', config]);
  });
  afterAll(async () => {
    await node?.stop('SIGINT');
  });

  it.skipIf('missing' in upload)(`Breakpad's minidump_upload submits corpus dumps and gets a CrashID${'missing' in upload ? ` (skipped: ${upload.missing})` : ''}`, async () => {
    const tool = (upload as { path: string }).path;
    for (const dump of dumps.slice(0, 3)) {
      const { stdout, stderr } = await run(tool, ['-p', 'BreakpadApp', '-v', '1.2.3', dump.path, `${node.url}/submit`]);
      const id = crashIdOf(stdout + stderr);
      const raw = await rawCrash(node.url, id);
      expect(raw).toMatchObject({ prod: 'BreakpadApp', ver: '1.2.3', ProductName: 'BreakpadApp', Version: '1.2.3' });
      expect((raw.metadata as { dumps: Record<string, { size: number }> }).dumps.upload_file_minidump.size).toBe(readFileSync(dump.path).length);
    }
  });

  it('accepts curl -F as the README shows it', async () => {
    const { stdout } = await run('curl', ['-sS', '-F', `upload_file_minidump=@${dumps[0].path}`, '-F', 'ProductName=Example', '-F', 'Version=1.0', `${node.url}/submit`]);
    expect(stdout).toMatch(/^CrashID=bp-[0-9a-f-]{36}\n$/);
    expect(await rawCrash(node.url, crashIdOf(stdout))).toMatchObject({ ProductName: 'Example', Version: '1.0' });
  });

  it('accepts a Crashpad-style gzip body sent chunked, with Electron field names, and normalises them', async () => {
    const boundary = 'crashpad-boundary-0123456789abcdef';
    const fields = { _productName: 'ElectronApp', _version: '5.6.7', _companyName: 'Acme', prod: 'Electron', ver: '30.1.0', guid: 'a1b2c3', process_type: 'browser', platform: 'linux' };
    const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
    const body = gzipSync(
      Buffer.concat([
        Buffer.from(parts.join('')),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="dump"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        readFileSync(dumps[1].path),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    );
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${node.url}/submit`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-encoding': 'gzip', 'user-agent': 'Crashpad/0.8.0' } }, (res) => {
        let out = '';
        res.on('data', (c: Buffer) => (out += c.toString()));
        res.on('end', () => resolve(out));
      });
      req.on('error', reject);
      // Several writes without Content-Length: Node sends Transfer-Encoding: chunked.
      for (let i = 0; i < body.length; i += 4096) req.write(body.subarray(i, i + 4096));
      req.end();
    });
    const raw = await rawCrash(node.url, crashIdOf(text));
    expect(raw).toMatchObject({ ...fields, ProductName: 'ElectronApp', Version: '5.6.7', Vendor: 'Acme', ProcessType: 'browser', Platform: 'linux', ClientID: 'a1b2c3' });
    expect(raw.metadata).toMatchObject({ payload_compressed: true, user_agent: 'Crashpad/0.8.0' });
  });

  it('mayday submit sends a crash as Breakpad does, and load-tests with --repeat', async () => {
    const one = await runMayday(['submit', dumps[2].path, '--url', node.url, '--product', 'Cli', '--version', '9', '--annotation', 'ReleaseChannel=beta', '--gzip']);
    expect(one.code).toBe(0);
    expect(await rawCrash(node.url, crashIdOf(one.stdout))).toMatchObject({ prod: 'Cli', ProductName: 'Cli', Version: '9', ReleaseChannel: 'beta' });
    const load = await runMayday(['submit', dumps[0].path, '--url', `${node.url}/submit`, '--product', 'Cli', '--repeat', '40', '--concurrency', '4']);
    expect(load.code).toBe(0);
    expect(load.stdout).toMatch(/requests: 40 {3}accepted: 40 {3}failures: 0/);
    expect(load.stdout).toMatch(/latency: p50 [\d.]+ ms {3}p95 [\d.]+ ms {3}p99 [\d.]+ ms/);
    const bad = await runMayday(['submit', dumps[0].path, '--url', node.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('needs at least one annotation');
  });
});

/** A raw client: the request head, then the body one byte every `tickMs`; resolves with the answer once the server closes. */
function trickle(url: string, contentLength: number, tickMs: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (answer += text));
    socket.on('error', () => undefined);
    const timer = setInterval(() => socket.destroyed || socket.write('x'), tickMs);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(answer);
    });
    socket.write(`POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${contentLength}\r\n\r\n--b\r\n`);
  });
}

describe('slow and crowding clients against mayday start', () => {
  let node: MaydayProcess;
  beforeAll(async () => {
    const dataDir = freshDir();
    const config = join(dataDir, 'limits.ini');
    // Small limits, so that the test sees them act in a second.
    writeFileSync(
      config,
      '[node]\nroles = collector, web\n[web]\nmax_connections = 24\n[collector]\nmin_rate = 2KB\nmin_rate_grace = 300ms\nrequest_deadline = 5s\nmax_in_flight = 3\nbody_timeout = 2s\n',
    );
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--config', config]);
  });
  afterAll(async () => {
    await node?.stop('SIGINT');
  });

  it('cuts off clients trickling their bodies (408 too_slow) and turns away those over max_in_flight (503), while it stays responsive', async () => {
    const trickling = Array.from({ length: 8 }, () => trickle(node.url, 100_000, 100));
    const health = await fetch(`${node.url}/__lbheartbeat__`);
    expect(health.status).toBe(200);
    const answers = await Promise.all(trickling);
    const statuses = answers.map((a) => a.split(' ')[1]);
    expect(statuses.filter((s) => s === '503').length, answers.join('\n---\n')).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === '408').length).toBeGreaterThanOrEqual(1);
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 (408 [^]*Discarded=too_slow|503 [^]*retry-after: \d+[^]*Error=too_busy)/i);
    const form = new FormData();
    form.append('ProductName', 'AfterTheStorm');
    form.append('upload_file_minidump', new Blob([readFileSync(dumps[0].path)]), 'crash.dmp');
    expect(await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text()).toMatch(/^CrashID=bp-/);
  });

  it('closes connections over web.max_connections at once, and serves again when they go', async () => {
    const { hostname, port } = new URL(node.url);
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => resolve(socket));
        socket.on('error', reject);
      });
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 24; i++) idle.push(await open());
      // The server counts a connection once it has accepted it: wait for the last to be held.
      await new Promise((r) => setTimeout(r, 200));
      const extra = await open();
      const closedAtOnce = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 3000);
        extra.on('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
        extra.on('error', () => undefined);
        extra.write('GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      expect(closedAtOnce).toBe(true);
    } finally {
      for (const socket of idle) socket.destroy();
    }
    await eventually(async () => ((await fetch(`${node.url}/__lbheartbeat__`).catch(() => undefined))?.status === 200 ? true : undefined), 5000, 'the node serving again');
  });
});

describe('SIGKILL under load', () => {
  it('keeps every crash that got a CrashID, stored and queued, across a restart', async () => {
    const dataDir = freshDir();
    const config = join(dataDir, 'collector.ini');
    writeFileSync(config, '[node]\nroles = collector\n');
    const node = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--config', config]);
    const dump = readFileSync(dumps[0].path);
    const acknowledged: string[] = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) {
        try {
          const form = new FormData();
          form.append('ProductName', 'Load');
          form.append('Version', '1');
          form.append('upload_file_minidump', new Blob([dump]), 'crash.dmp');
          const response = await fetch(`${node.url}/submit`, { method: 'POST', body: form });
          const text = await response.text();
          if (response.status === 200) acknowledged.push(crashIdOf(text));
        } catch {
          return; // cut off by the kill: never acknowledged, a real client would retry
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await eventually(async () => (acknowledged.length >= 40 ? true : undefined), 15_000, 'acknowledgements under load');
    await node.stop('SIGKILL');
    stop = true;
    await Promise.all(clients);

    // Restart (sweeps pending crashes, clears partial uploads), stop cleanly, then look.
    const again = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--config', config]);
    await again.stop('SIGINT');
    const store = await FsRawCrashStore.open(join(dataDir, 'raw'));
    const queue = SqliteQueue.open(join(dataDir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
    try {
      const queued = new Set<string>();
      for (let item = await queue.take(); item; item = await queue.take()) queued.add(item.crashId);
      for (const id of acknowledged) {
        expect(await store.get(id), `raw crash ${id}`).toBeDefined();
        expect(queued.has(id), `queued ${id}`).toBe(true);
      }
    } finally {
      await queue.close();
    }
  });
});
