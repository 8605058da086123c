import { describe, expect, it } from 'vitest';
import { parseIni } from '../../src/config/ini.js';
import { loadConfig, MAX_INCLUDE_DEPTH, type IncludeReader } from '../../src/config/load.js';

/** `include = FILE`: what a node file builds on, applied before the file's own lines. */
function reader(files: Record<string, string>): IncludeReader {
  return (path) => {
    if (!(path in files)) throw new Error(`${path}: ENOENT`);
    return { name: path, text: files[path] };
  };
}

describe('include', () => {
  it('is read before the first section, one or several per line', () => {
    const doc = parseIni('; head\ninclude = a.ini, b.ini\ninclude = c.ini\n[web]\ninclude = x\n');
    expect(doc.includes).toEqual([
      { path: 'a.ini', line: 2 },
      { path: 'b.ini', line: 2 },
      { path: 'c.ini', line: 3 },
    ]);
    // Inside a section it is an ordinary key (and not an option of [web]).
    expect(doc.entries).toEqual([{ section: 'web', key: 'include', value: 'x', line: 5 }]);
    expect(parseIni('include = a.ini,\n').problems).toEqual([{ line: 1, message: 'include needs a file name (include = common.ini)' }]);
  });

  it('layers included files, then the file, then the environment, and records where each value came from', () => {
    const files = {
      'base.ini': '[web]\nport = 9000\nhost = 0.0.0.0\n[queue]\nprefix = base.\n',
      'common.ini': 'include = base.ini\n[web]\nport = 9100\n',
    };
    const result = loadConfig({ file: { name: 'node.ini', text: 'include = common.ini\n[queue]\nprefix = node.\n' }, readInclude: reader(files), env: { MAYDAY_WEB_HOST: '127.0.0.2' } });
    expect(result.findings).toEqual([]);
    expect(result.config!.web.port).toBe(9100);
    expect(result.config!.web.host).toBe('127.0.0.2');
    expect(result.config!.queue.prefix).toBe('node.');
    expect(result.origins.get('web.port')).toEqual({ kind: 'file', file: 'common.ini', line: 3 });
    expect(result.origins.get('queue.prefix')).toEqual({ kind: 'file', file: 'node.ini', line: 3 });
    expect(result.files).toEqual(['base.ini', 'common.ini', 'node.ini']);
  });

  it('a rules option set in the file replaces the included rules', () => {
    const common = '[throttle.rules.a]\naction = reject\nproduct = A\n\n[throttle.rules.b]\naction = reject\nproduct = B\n';
    const own = loadConfig({ file: { name: 'n.ini', text: 'include = c.ini\n[throttle.rules.z]\naction = defer\n' }, readInclude: reader({ 'c.ini': common }) });
    expect(own.config!.throttle.rules.map((r) => r.name)).toEqual(['z']);
    const inherited = loadConfig({ file: { name: 'n.ini', text: 'include = c.ini\n' }, readInclude: reader({ 'c.ini': common }) });
    expect(inherited.config!.throttle.rules.map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('reports a file that cannot be read, a cycle, too deep a nesting, and includes without a reader, at the include line', () => {
    expect(loadConfig({ file: { name: 'n.ini', text: '\ninclude = gone.ini\n' }, readInclude: reader({}) }).findings).toEqual([
      { source: 'n.ini', line: 2, severity: 'error', message: 'cannot include gone.ini: gone.ini: ENOENT' },
    ]);
    expect(loadConfig({ file: { name: 'n.ini', text: 'include = a.ini\n' }, readInclude: reader({ 'a.ini': 'include = n.ini\n', 'n.ini': 'include = a.ini\n' }) }).findings).toEqual([
      { source: 'a.ini', line: 1, severity: 'error', message: 'include of n.ini makes a cycle (n.ini -> a.ini -> n.ini)' },
    ]);
    const chain: Record<string, string> = {};
    for (let i = 0; i < MAX_INCLUDE_DEPTH + 2; i++) chain[`f${i}.ini`] = `include = f${i + 1}.ini\n`;
    chain[`f${MAX_INCLUDE_DEPTH + 2}.ini`] = '';
    const deep = loadConfig({ file: { name: 'n.ini', text: 'include = f0.ini\n' }, readInclude: reader(chain) });
    expect(deep.findings.map((f) => f.message)).toEqual([`includes nest more than ${MAX_INCLUDE_DEPTH} deep`]);
    expect(loadConfig({ file: { name: 'n.ini', text: 'include = a.ini\n' } }).findings).toEqual([
      { source: 'n.ini', line: 1, severity: 'error', message: 'include = a.ini: includes are read only from files on disk' },
    ]);
  });

  it('a mistake in an included file is reported in that file', () => {
    const result = loadConfig({ file: { name: 'n.ini', text: 'include = c.ini\n' }, readInclude: reader({ 'c.ini': '[web]\nport = lots\n' }) });
    expect(result.config).toBeUndefined();
    expect(result.findings).toEqual([{ source: 'c.ini', line: 2, severity: 'error', message: expect.stringMatching(/^web\.port: /) }]);
    // The partial configuration keeps the default for the value in error.
    expect(result.partial.web.port).toBe(8000);
  });
});
