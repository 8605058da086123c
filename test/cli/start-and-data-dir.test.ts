import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listenErrorLine, noteCreatedPaths } from '../../src/cli/start-support.js';
import { isLoopback, reachLines } from '../../src/cli/commands/start.js';
import { runStackwalk, symbolsPathProblem } from '../../src/cli/commands/stackwalk.js';
import { openNodeData } from '../../src/cli/data-dir.js';
import { UserError } from '../../src/common/errors.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-cli-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('mayday start: listening', () => {
  it('turns a port in use into one line naming the port, the host and what to do', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8000'), { code: 'EADDRINUSE' });
    expect(listenErrorLine(error, '127.0.0.1', 8000)).toBe('mayday: port 8000 on 127.0.0.1 is in use (another Mayday, or another program): stop it or choose --port');
    expect(listenErrorLine(Object.assign(new Error('x'), { code: 'EACCES' }), '0.0.0.0', 80)).toContain('choose --port');
    expect(listenErrorLine(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }), '10.9.9.9', 8000)).toContain('choose --host');
    expect(listenErrorLine(new Error('something else'), '127.0.0.1', 8000)).toBeUndefined();
  });

  it('says when it listens on loopback only, and how to accept crashes from other machines', () => {
    for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', '::1', '[::1]']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2']) expect(isLoopback(host), host).toBe(false);
    const loopback = reachLines('127.0.0.1', '/srv/mayday', 'http://127.0.0.1:8000').join('\n');
    expect(loopback).toContain('127.0.0.1 only (loopback)');
    expect(loopback).toContain('mayday users create NAME --admin');
    expect(loopback).toContain('--data-dir /srv/mayday');
    expect(loopback).toContain('--host 0.0.0.0');
    const open = reachLines('0.0.0.0', '/srv/mayday', 'http://127.0.0.1:8000').join('\n');
    expect(open).toContain('other machines can send crashes');
    expect(open).not.toContain('loopback');
  });
});

describe('mayday start: a failed start takes back only what it made', () => {
  it('removes the topmost directory it created on the way to the data directory', () => {
    const base = tempDir();
    const dataDir = join(base, 'a', 'b', 'var');
    const created = noteCreatedPaths(dataDir);
    mkdirSync(join(dataDir, 'raw'), { recursive: true });
    writeFileSync(join(dataDir, 'mayday.sqlite'), '');
    expect(created.removeCreated()).toEqual([join(base, 'a')]);
    expect(readdirSync(base)).toEqual([]);
  });

  it('keeps a directory that existed, and what was in it', () => {
    const dataDir = join(tempDir(), 'var');
    mkdirSync(join(dataDir, 'symbols'), { recursive: true });
    writeFileSync(join(dataDir, 'notes.txt'), 'mine');
    const created = noteCreatedPaths(dataDir);
    mkdirSync(join(dataDir, 'raw'));
    writeFileSync(join(dataDir, 'symbols', 'added-inside-an-old-dir.sym'), '');
    writeFileSync(join(dataDir, 'mayday.sqlite'), '');
    expect(created.removeCreated().sort()).toEqual([join(dataDir, 'mayday.sqlite'), join(dataDir, 'raw')]);
    expect(readdirSync(dataDir).sort()).toEqual(['notes.txt', 'symbols']);
  });
});

describe('commands on a data directory', () => {
  it('refuse one without data, with a hint, and create nothing', () => {
    const dataDir = join(tempDir(), 'var');
    const messages: string[] = [];
    expect(() => openNodeData('tokens create', { dataDir }, { err: (t) => messages.push(t) })).toThrow(UserError);
    expect(() => openNodeData('tokens create', { dataDir })).toThrow(/no Mayday data in .*var \(no database .*mayday\.sqlite; from --data-dir .*\)\.\n.*--data-dir DIR/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('say which one they use; `users create` may start a new one and says so', () => {
    const dataDir = tempDir();
    const messages: string[] = [];
    openNodeData('users create', { dataDir }, { mayCreate: true, err: (t) => messages.push(t) });
    expect(messages.join('')).toContain(`data directory ${dataDir} holds no database yet; creating ${join(dataDir, 'mayday.sqlite')}`);
    writeFileSync(join(dataDir, 'mayday.sqlite'), '');
    messages.length = 0;
    openNodeData('reprocess', { dataDir }, { err: (t) => messages.push(t) });
    expect(messages).toEqual([`mayday reprocess: using data directory ${dataDir}\n`]);
  });
});

describe('mayday stackwalk --symbols-path', () => {
  it('tells a missing path or one without the symbol store layout from a symbol store', async () => {
    const base = tempDir();
    expect(await symbolsPathProblem(join(base, 'nope'))).toBe('does not exist');
    writeFileSync(join(base, 'file'), '');
    expect(await symbolsPathProblem(join(base, 'file'))).toBe('is not a directory');
    mkdirSync(join(base, 'flat'));
    writeFileSync(join(base, 'flat', 'libfoo.so.sym'), 'MODULE Linux x86_64 ABC libfoo.so\n');
    expect(await symbolsPathProblem(join(base, 'flat'))).toMatch(/holds no symbol store layout \(DEBUG_FILE\/DEBUG_ID\/DEBUG_FILE\.sym/);
    mkdirSync(join(base, 'store', 'foo.pdb', '0123456789ABCDEF0123456789ABCDEF1'), { recursive: true });
    writeFileSync(join(base, 'store', 'foo.pdb', '0123456789ABCDEF0123456789ABCDEF1', 'foo.sym'), 'MODULE windows x86_64 0123 foo.pdb\n');
    expect(await symbolsPathProblem(join(base, 'store'))).toBeUndefined();
  });

  it('warns on stderr and still walks the dumps', async () => {
    const base = tempDir();
    let err = '';
    let out = '';
    const dump = join(import.meta.dirname, '../../fixtures/corpus/dumps/example-app-null.dmp');
    const code = await runStackwalk([dump], { symbolsPath: [join(base, 'missing'), join(import.meta.dirname, '../../fixtures/corpus/symbols')] }, (t) => (out += t), (t) => (err += t));
    expect(code).toBe(0);
    expect(err).toBe(`mayday stackwalk: warning: --symbols-path ${join(base, 'missing')} does not exist; no symbols will be found there\n`);
    expect(out).toContain('crash_null_deref');
  });
});
