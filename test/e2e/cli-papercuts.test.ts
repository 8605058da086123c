/**
 * The start-up and data-directory papercuts, through the real `mayday` command: a port in
 * use, a failed --demo, --host and the banner, commands that find no data, `tokens create`
 * without --user, `stackwalk` with a wrong --symbols-path.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runMayday, startMayday } from '../support/mayday-process.js';

let base: string;
let blocker: Server;
let busyPort: number;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'mayday-e2e-papercuts-'));
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  busyPort = (blocker.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => blocker.close(resolve));
  rmSync(base, { recursive: true, force: true });
});

describe('mayday start on a port in use', () => {
  it('says so in one line, exits non-zero, and a failed --demo leaves no data directory behind', async () => {
    const dataDir = join(base, 'fresh', 'demo');
    const result = await runMayday(['start', '--demo', '--data-dir', dataDir, '--port', String(busyPort)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`mayday: port ${busyPort} on 127.0.0.1 is in use (another Mayday, or another program): stop it or choose --port\n`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(base, 'fresh'))).toBe(false);
  }, 30_000);

  it('never removes a directory that existed, nor what was in it', async () => {
    const dataDir = join(base, 'existing');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'keep.txt'), 'mine');
    const result = await runMayday(['start', '--demo', '--data-dir', dataDir, '--port', String(busyPort)]);
    expect(result.code).toBe(1);
    expect(readdirSync(dataDir)).toEqual(['keep.txt']);
  }, 30_000);
});

describe('mayday start --host', () => {
  it('says when it listens on loopback only, and how to take crashes from other machines', async () => {
    const dataDir = join(base, 'banner');
    const local = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(local.stderr()).toContain('Listening on 127.0.0.1 only (loopback)');
      expect(local.stderr()).toContain(`mayday users create NAME --admin --password-stdin --data-dir ${dataDir}`);
      expect(local.stderr()).toContain('--host 0.0.0.0');
    } finally {
      await local.stop('SIGINT');
    }
    const open = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--host', '0.0.0.0']);
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(open.stderr()).toContain('Listening on 0.0.0.0: other machines can send crashes');
      expect(open.stderr()).not.toContain('loopback');
      expect((await fetch(`${open.url}/__lbheartbeat__`)).status).toBe(200);
    } finally {
      await open.stop('SIGINT');
    }
  }, 60_000);
});

describe('commands on a data directory', () => {
  it('refuse one without data, with a hint, and create nothing', async () => {
    const empty = join(base, 'nothing-here');
    for (const args of [
      ['tokens', 'create', '--user', 'ci', '--permissions', 'reprocess'],
      ['tokens', 'list'],
      ['users', 'list'],
      ['reprocess', '--crash-id', '00000000-0000-0000-0000-000000261128'],
    ]) {
      const result = await runMayday([...args, '--data-dir', empty]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(`no Mayday data in ${empty}`);
      expect(result.stderr).toContain('--data-dir DIR');
    }
    expect(existsSync(empty)).toBe(false);
  }, 60_000);

  it('say which one they used; users create makes the first database; tokens create wants --user', async () => {
    const dataDir = join(base, 'accounts');
    const made = await runMayday(['users', 'create', 'root', '--admin', '--password', 'a long enough password', '--data-dir', dataDir]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toContain(`mayday users create: data directory ${dataDir} holds no database yet; creating`);
    const noUser = await runMayday(['tokens', 'create', '--permissions', 'reprocess', '--data-dir', dataDir]);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toContain('give --user NAME');
    expect(noUser.stdout).toBe('');
    const token = await runMayday(['tokens', 'create', '--user', 'root', '--permissions', 'reprocess', '--data-dir', dataDir]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stderr).toContain(`mayday tokens create: using data directory ${dataDir}\n`);
    expect(token.stderr).toContain('for root');
    const listed = await runMayday(['users', 'list', '--data-dir', dataDir]);
    expect(listed.stderr).toContain(`mayday users list: using data directory ${dataDir}\n`);
  }, 60_000);
});

describe('mayday stackwalk', () => {
  it('warns on stderr when a --symbols-path does not exist or holds no symbol store', async () => {
    const flat = join(base, 'flat-symbols');
    mkdirSync(flat);
    writeFileSync(join(flat, 'example-app.sym'), 'MODULE Linux x86_64 0 example-app\n');
    const dump = join(PROJECT_ROOT, 'fixtures/corpus/dumps/example-app-null.dmp');
    const result = await runMayday(['stackwalk', dump, '--symbols-path', join(base, 'no-such-dir'), '--symbols-path', flat]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`--symbols-path ${join(base, 'no-such-dir')} does not exist`);
    expect(result.stderr).toContain(`--symbols-path ${flat} holds no symbol store layout`);
    expect(result.stdout).toContain('Thread 0');
  }, 30_000);
});
