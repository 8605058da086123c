import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { frameFromArgument, runSignature, type SignatureCommandOptions } from '../../src/cli/commands/signature.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-sigcli-'));
  dirs.push(dir);
  return dir;
}

async function run(file: string | undefined, options: SignatureCommandOptions) {
  let out = '';
  let err = '';
  const code = await runSignature(file, options, (t) => (out += t), (t) => (err += t));
  return { code, out, err };
}

const stackwalkerDocument = {
  crash_info: { type: 'SIGSEGV /SEGV_MAPERR', address: '0x0', crashing_thread: 0 },
  threads: [{ frames: [{ function: '__memmove_avx_unaligned_erms', module: 'libc.so.6' }, { function: 'blit(Surface*, int)', file: '/src/blit.cc', line: 40 }, { function: 'main' }] }],
};

describe('mayday signature', () => {
  it('prints the signature of a stackwalker document and of a processed crash', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'doc.json'), JSON.stringify(stackwalkerDocument));
    writeFileSync(join(dir, 'processed.json'), JSON.stringify({ json_dump: stackwalkerDocument, crashing_thread: 0, oom_allocation_size: 100 }));
    expect(await run(join(dir, 'doc.json'), {})).toEqual({ code: 0, out: '__memmove_avx_unaligned_erms | blit\n', err: '' });
    expect((await run(join(dir, 'processed.json'), {})).out).toBe('OOM | small\n');
  });

  it('takes frames from the command line', async () => {
    const { code, out } = await run(undefined, { frames: ['raise', 'abort', 'libc.so.6@0x1234', 'libc.so.6@0x5678', 'check_state(int)', 'main'] });
    expect(code).toBe(0);
    expect(out).toBe('libc.so.6 | check_state\n');
    expect(frameFromArgument('@0x10')).toEqual({ offset: '0x10' });
    expect(frameFromArgument('app@0x10')).toEqual({ module: 'app', module_offset: '0x10' });
    expect(frameFromArgument('std::map<int, int>::at(int)')).toEqual({ function: 'std::map<int, int>::at(int)' });
  });

  it('explains itself with --debug', async () => {
    const { out } = await run(undefined, { frames: ['raise', 'do_work'], debug: true });
    expect(out).toContain('\nproto signature: raise | do_work\n');
    expect(out).toContain('  frame 0 "raise": skipped, irrelevant (resources/signature/irrelevant.txt:');
    expect(out).toContain('  frame 1 "do_work": kept; not a prefix, so the signature ends here\n');
  });

  it('uses edited lists from --lists', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'prefix.txt'), 'do_work$\n');
    expect((await run(undefined, { frames: ['do_work', 'caller'], lists: dir })).out).toBe('do_work | caller\n');
    writeFileSync(join(dir, 'sentinel.txt'), 'ok\n(bad\n');
    const bad = await run(undefined, { frames: ['x'], lists: dir });
    expect(bad.code).toBe(2);
    expect(bad.err.startsWith(`${join(dir, 'sentinel.txt')}:2: error: invalid regular expression "(bad": `)).toBe(true);
  });

  it('refuses missing, unreadable or non-JSON input with exit code 2', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    writeFileSync(join(dir, 'array.json'), '[]');
    expect((await run(undefined, {})).code).toBe(2);
    expect((await run(join(dir, 'x.json'), { frames: ['f'] })).code).toBe(2);
    expect(await run(join(dir, 'missing.json'), {})).toMatchObject({ code: 2, err: expect.stringContaining('missing.json') });
    expect(await run(join(dir, 'bad.json'), {})).toMatchObject({ code: 2, err: expect.stringContaining('not JSON') });
    expect(await run(join(dir, 'array.json'), {})).toMatchObject({ code: 2, err: expect.stringContaining('not a processed crash') });
  });
});
