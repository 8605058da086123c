import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runStackwalk } from '../../../src/cli/commands/stackwalk.js';

const corpus = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/corpus');
const dump = (name: string) => join(corpus, 'dumps', `${name}.dmp`);
const symbolsPath = [join(corpus, 'symbols')];

async function run(dumps: string[], options: Record<string, boolean> = {}) {
  let out = '';
  let err = '';
  const code = await runStackwalk(dumps, { symbolsPath, ...options }, (t) => (out += t), (t) => (err += t));
  return { code, out, err };
}

describe('mayday stackwalk', () => {
  it.each(readdirSync(join(corpus, 'dumps')).map((f) => f.replace(/\.dmp$/, '')))('prints Breakpad\'s human layout for %s', async (name) => {
    const { code, out } = await run([dump(name)]);
    expect(code).toBe(0);
    expect(out).toBe(readFileSync(join(corpus, 'expected', `${name}.breakpad.txt`), 'utf8'));
  });

  it('prints the machine-readable layout', async () => {
    const { out } = await run([dump('example-app-thread')], { machineReadable: true });
    expect(out).toBe(readFileSync(join(corpus, 'expected', 'example-app-thread.breakpad-m.txt'), 'utf8'));
  });

  it('prints one JSON document per line, in order, and keeps going after a bad file', async () => {
    const { code, out, err } = await run([dump('example-app-null'), '/nonexistent/x.dmp', dump('example-app-abort')], { json: true });
    expect(code).toBe(1);
    expect(err).toContain('/nonexistent/x.dmp');
    const docs = out.trim().split('\n').map((l) => JSON.parse(l) as { crash_info: { type: string; address: string }; crashing_thread: { frames: { function: string; trust: string }[] } });
    expect(docs).toHaveLength(2);
    expect(docs[0].crash_info.type).toBe('SIGSEGV /SEGV_MAPERR');
    expect(docs[0].crashing_thread.frames[0].function).toBe('crash_null_deref(Widget*)');
    expect(docs[0].crashing_thread.frames[0].trust).toBe('context');
    expect(docs[1].crash_info.type).toBe('SIGABRT');
  });

  it('indents JSON with --pretty', async () => {
    const { out } = await run([dump('example-app-abort')], { json: true, pretty: true });
    expect(out.split('\n').length).toBeGreaterThan(50);
    expect(out).toContain('\n  "status": "OK"');
  });
});
