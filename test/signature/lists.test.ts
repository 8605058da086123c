import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileSignatureLists, parseSignatureList, SignatureListError } from '../../src/signature/lists.js';
import { loadSignatureLists } from '../../src/roles/processor/signature-rule.js';
import { generateSignature } from '../../src/signature/generator.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('signature list parsing', () => {
  it('skips comments and blank lines and remembers line numbers', () => {
    const list = parseSignatureList('# header\n\nabort$\n   # indented comment\n  raise  \r\n', 'irrelevant.txt');
    expect(list.entries.map((e) => [e.pattern, e.line])).toEqual([
      ['abort$', 3],
      ['raise', 5],
    ]);
  });

  it('matches at the start of a frame, as Python re.match does', () => {
    const list = parseSignatureList('std::__\nabort$\n', 'irrelevant.txt');
    expect(list.match('std::__throw_length_error')?.pattern).toBe('std::__');
    expect(list.match('my::std::__x')).toBeUndefined();
    expect(list.match('abort')?.pattern).toBe('abort$');
    expect(list.match('abort_handler')).toBeUndefined();
    expect(list.describe(list.match('abort')!)).toBe('irrelevant.txt:2 /abort$/');
  });

  it('accepts the escapes of Socorro lists and alternations without leaking the anchor', () => {
    const list = parseSignatureList('\\<name omitted\\>\na|b\n', 'prefix.txt');
    expect(list.match('<name omitted>')).toBeDefined();
    expect(list.match('xb')).toBeUndefined();
    expect(list.match('b')).toBeDefined();
  });

  it('reports every invalid line with its file and line number', () => {
    let error: unknown;
    try {
      parseSignatureList('ok\nbad(\nfine\n[unclosed\n', 'lists/prefix.txt');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SignatureListError);
    const message = (error as Error).message.split('\n');
    expect(message).toHaveLength(2);
    expect(message[0]).toMatch(/^lists\/prefix\.txt:2: error: invalid regular expression "bad\("/);
    expect(message[1]).toMatch(/^lists\/prefix\.txt:4: error: /);
  });

  it('limits an entry to function frames or to module-only frames when it says so', () => {
    const list = parseSignatureList('function:sentry_\nmodule: libc\\.so\nanywhere\n(?:module:)literal\n', 'irrelevant.txt');
    expect(list.entries.map((e) => [e.scope, e.pattern])).toEqual([
      ['function', 'sentry_'],
      ['module', 'libc\\.so'],
      ['any', 'anywhere'],
      ['any', '(?:module:)literal'],
    ]);
    expect(list.match('sentry_capture_event', 'function')?.pattern).toBe('sentry_');
    expect(list.match('sentry_example.exe@0x1234', 'module')).toBeUndefined();
    expect(list.match('libc.so.6@0x10', 'module')?.pattern).toBe('libc\\.so');
    expect(list.match('libc.so_helper', 'function')).toBeUndefined();
    expect(list.match('anywhere@0x1', 'module')?.pattern).toBe('anywhere');
    expect(list.match('anywhere', 'function')?.pattern).toBe('anywhere');
    expect(list.match('module:literal', 'function')?.pattern).toBe('(?:module:)literal');
    expect(list.describe(list.entries[0])).toBe('irrelevant.txt:1 function:/sentry_/');
    expect(() => parseSignatureList('ok\nmodule:\n', 'prefix.txt')).toThrow(/prefix\.txt:2: error: "module:" without an expression/);
  });

  it('compiles the four lists together and reports the problems of all of them', () => {
    expect(() => compileSignatureLists({ sentinel: '(', irrelevant: 'ok', prefix: 'ok\n)', 'line-number': '' })).toThrow(/sentinel\.txt:1: error: .*\n.*prefix\.txt:2: error: /);
    const lists = compileSignatureLists({ sentinel: 'a', irrelevant: { text: 'b', source: '/etc/mayday/irrelevant.txt' }, prefix: '', 'line-number': '' });
    expect(lists.irrelevant.describe(lists.irrelevant.entries[0])).toBe('/etc/mayday/irrelevant.txt:1 /b/');
    expect(lists.prefix.entries).toEqual([]);
  });
});

describe('signature list files', () => {
  it('ship valid defaults for the C library, C++ runtime, Rust panics and Windows', () => {
    const lists = loadSignatureLists();
    expect(lists.sentinel.match('abort')).toBeDefined();
    for (const frame of ['raise', 'gsignal', '__pthread_kill_implementation', 'pthread_kill', '__GI_raise', 'std::panicking::begin_panic_handler', 'KiUserExceptionDispatcher', '@0x1234']) {
      expect(lists.irrelevant.match(frame), frame).toBeDefined();
    }
    for (const frame of ['memcpy', '__memcpy_avx_unaligned_erms', 'malloc', 'free', 'core::result::unwrap_failed', '@0x0', '__assert_fail']) {
      expect(lists.prefix.match(frame), frame).toBeDefined();
    }
    for (const frame of ['libc.so.6@0x8aeec', 'ntdll.dll@0x1a']) {
      expect(lists.prefix.match(frame, 'module'), frame).toBeDefined();
      expect(lists.prefix.match(frame, 'function'), frame).toBeUndefined();
    }
    for (const frame of ['crash_null_deref', 'main', 'do_abort', 'layout_frame']) {
      expect(lists.irrelevant.match(frame), frame).toBeUndefined();
      expect(lists.prefix.match(frame), frame).toBeUndefined();
      expect(lists.sentinel.match(frame), frame).toBeUndefined();
    }
    expect(lists.lineNumber.entries).toEqual([]);
    expect(lists.irrelevant.source).toBe('resources/signature/irrelevant.txt');
  });

  it('never let an entry meant for functions swallow the unsymbolicated frames of an app named like them', () => {
    const lists = loadSignatureLists();
    // Module-only frames of applications whose names start like library functions.
    const apps = ['sentry_example.exe@0x1a2b', 'memcached@0x10', 'strace@0x20', 'wcsapp.exe@0x30', 'je_server@0x40', 'tc_tool@0x50', 'mi_app@0x60', 'jemalloc_bench@0x70', 'CrashForExceptionDemo.exe@0x80', 'RtlDispatchExceptionTest.exe@0x90', 'operator new.exe@0x1', 'futex_waiter@0x2', 'objc_msgSend_tests@0x3'];
    for (const frame of apps) {
      expect(lists.irrelevant.match(frame, 'module'), frame).toBeUndefined();
      expect(lists.prefix.match(frame, 'module'), frame).toBeUndefined();
      expect(lists.sentinel.match(frame, 'module'), frame).toBeUndefined();
    }
    // ... while the functions those entries are for still match.
    expect(lists.irrelevant.match('sentry_capture_event', 'function')).toBeDefined();
    expect(lists.prefix.match('memcpy', 'function')).toBeDefined();
    // The vDSO entries are for modules.
    expect(lists.irrelevant.match('linux-vdso.so.1@0x9f0', 'module')).toBeDefined();
  });

  it("sign an app named like a library's functions by its own frames, and still skip the library's", () => {
    const lists = loadSignatureLists();
    const module = (name: string, offset: string) => ({ module: name, module_offset: offset });
    const appFrames = [module('VCRUNTIME140D.dll', '0x20476'), module('sentry_example.exe', '0x17fc'), module('sentry_example.exe', '0x2054')];
    expect(generateSignature({ crashingThread: 0, frames: appFrames }, lists).signature).toBe('vcruntime140d.dll | sentry_example.exe@0x17fc');
    const sdkFrames = [{ module: 'app', function: 'sentry__breakpad_backend_callback' }, { module: 'app', function: 'sentry_capture_event' }, { module: 'app', function: 'Renderer::draw()' }];
    expect(generateSignature({ crashingThread: 0, frames: sdkFrames }, lists).signature).toBe('Renderer::draw');
  });

  it('read an operator directory, falling back to the defaults for missing files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-siglists-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'prefix.txt'), '# mine\nmy_helper$\n');
    const lists = loadSignatureLists(dir);
    expect(lists.prefix.source).toBe(join(dir, 'prefix.txt'));
    expect(lists.prefix.match('my_helper')).toBeDefined();
    expect(lists.prefix.match('memcpy')).toBeUndefined();
    expect(lists.irrelevant.match('raise')).toBeDefined();
  });

  it('name the operator file and line of an invalid expression', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-siglists-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'irrelevant.txt'), 'fine\n\n(broken\n');
    expect(() => loadSignatureLists(dir)).toThrow(`${join(dir, 'irrelevant.txt')}:3: error: invalid regular expression`);
  });
});
