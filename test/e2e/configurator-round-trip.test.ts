import { deploymentZip } from '../../src/configurator/web/deployment-zip.js';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { readIncludeFromDisk } from '../../src/cli/load-node-config.js';
import { readDeployment } from '../../src/cli/commands/config.js';
import { parseIni } from '../../src/config/ini.js';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { compileDeployment } from '../../src/configurator/compile.js';
import type { DeploymentFile } from '../../src/configurator/deployment.js';
import { presetFiles, type Preset } from '../../src/configurator/presets.js';
import { fileText, mergeFiles, setOption } from '../../src/configurator/web/model.js';
import { runMayday } from '../support/mayday-process.js';

/**
 * The issue's round trip: files the Configurator writes load unchanged in `mayday run`, and
 * files written by hand keep their comments and order through import, an edit and export
 * where the user did not change a value. "Load" is `mayday run`'s own loader: loadConfig
 * with the node file's path and the reader of included files from disk
 * (src/cli/load-node-config.ts), with no environment, so that the files alone are judged.
 */

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-round-trip-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Loads one node file the way `mayday run --config PATH` does. */
function loadAsRun(path: string): LoadResult {
  return loadConfig({ file: { name: path, text: readFileSync(path, 'utf8') }, readInclude: readIncludeFromDisk, env: {} });
}

/** The files of DIR that no other file includes: the ones `mayday run --config` is given. */
function nodeFiles(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => n.endsWith('.ini')).sort();
  const included = new Set(names.flatMap((n) => parseIni(readFileSync(join(dir, n), 'utf8')).includes.map((i) => i.path)));
  return names.filter((n) => !included.has(n));
}

/** What the web tool's "Download zip" holds, written out as `unzip` would. */
function unzipTo(dir: string, zip: Uint8Array): void {
  for (const [name, bytes] of Object.entries(unzipSync(zip))) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
}

const PRESET_RUNS: { preset: Preset; hosts: string[]; nodes: string[] }[] = [
  { preset: 'all-in-one', hosts: [], nodes: ['mayday.ini'] },
  { preset: 'distributed', hosts: ['a', 'b', 'c'], nodes: ['collector.ini', 'processor-1.ini', 'processor-2.ini', 'scheduler.ini', 'web.ini'] },
];

describe('files the Configurator writes load unchanged in mayday run', () => {
  for (const { preset, hosts, nodes } of PRESET_RUNS) {
    it(`mayday config init --preset ${preset}${hosts.length ? ` --hosts ${hosts.join(',')}` : ''}: every node file loads without a finding, as the Configurator compiled it`, async () => {
      const dir = tempDir();
      const init = await runMayday(['config', 'init', dir, '--preset', preset, ...(hosts.length ? ['--hosts', hosts.join(',')] : [])]);
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(nodeFiles(dir)).toEqual(nodes);

      // The Configurator's model of the same files, read as `config validate` reads them.
      const model = compileDeployment(await readDeployment([dir]));
      expect(model.findings).toEqual([]);
      for (const name of nodes) {
        const path = join(dir, name);
        const loaded = loadAsRun(path);
        expect(loaded.findings, name).toEqual([]);
        expect(loaded.config, name).toBeDefined();
        // What runs is what the Configurator validated and drew: the same configuration.
        expect(loaded.config, name).toEqual(model.nodes.find((n) => n.file === path)!.config);
      }
    });

    it(`the web tool's zip of the ${preset} preset holds the very files init writes`, async () => {
      const written = tempDir();
      expect((await runMayday(['config', 'init', written, '--preset', preset, ...(hosts.length ? ['--hosts', hosts.join(',')] : [])])).code).toBe(0);
      const downloaded = tempDir();
      unzipTo(downloaded, deploymentZip(presetFiles(preset, hosts)));
      expect(readdirSync(downloaded).sort()).toEqual(readdirSync(written).sort());
      for (const name of readdirSync(written)) expect(readFileSync(join(downloaded, name), 'utf8'), name).toBe(readFileSync(join(written, name), 'utf8'));
      for (const name of nodes) expect(loadAsRun(join(downloaded, name)).findings, name).toEqual([]);
    });
  }
});

/**
 * Written by hand: comments at the top, in sections and between entries, blank lines
 * (one and two), sections in no usual order, keys in no usual order, a colon separator,
 * odd spacing and indentation, trailing spaces, a quoted value, a throttle rule.
 */
const COMMON = [
  '# Shared by every node of the lab. Written by hand, not by the Configurator.',
  '',
  '[retention]',
  '; a quarter for what people sent us',
  'protected_days: 90',
  '',
  '[log]',
  'level = warn   ',
  '',
].join('\n');

const LAB = [
  'include = common.ini',
  '',
  '; lab.ini: every role on one box.',
  ';   The sections are in no particular order, on purpose.',
  '',
  '[web]',
  'port   =   8000',
  '; only this machine for now',
  'host = 127.0.0.1',
  '',
  '',
  '[throttle.rules.nightly]',
  '; nightly builds wait until someone has time',
  'channel = nightly',
  'action = defer',
  '',
  '[node]',
  '  roles = collector, processor, web, scheduler',
  'data_dir = "./var/lab"',
  'name = lab',
  '',
  '[retention]',
  'days: 365',
].join('\n'); // no final newline either

describe('files written by hand keep their comments and order', () => {
  it('import, one value changed in the form, export: byte-identical but for that line, and mayday run loads the result', async () => {
    // Import, as the Start page's upload does.
    const imported: DeploymentFile[] = mergeFiles([], [
      { name: 'common.ini', text: COMMON },
      { name: 'lab.ini', text: LAB },
    ]);
    const before = compileDeployment(imported);
    expect(before.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(before.nodes.map((n) => [n.id, n.config.web.port])).toEqual([['lab', 8000]]);

    // The form's field for web.port, edited: the path FileForm takes (model.setOption).
    const edited = setOption(imported, 'lab.ini', 'web', 'port', '8200');
    expect(fileText(edited, 'common.ini')).toBe(COMMON);
    const labBefore = LAB.split('\n');
    const labAfter = fileText(edited, 'lab.ini').split('\n');
    expect(labAfter.length).toBe(labBefore.length);
    const changed = labBefore.flatMap((line, i) => (line === labAfter[i] ? [] : [i]));
    expect(changed.map((i) => [labBefore[i], labAfter[i]])).toEqual([['port   =   8000', 'port   =   8200']]);
    expect(fileText(edited, 'lab.ini')).toBe(LAB.replace('port   =   8000', 'port   =   8200'));

    // Export: the zip, unzipped, holds exactly those bytes.
    const downloaded = tempDir();
    unzipTo(downloaded, deploymentZip(edited));
    expect(readFileSync(join(downloaded, 'common.ini'), 'utf8')).toBe(COMMON);
    expect(readFileSync(join(downloaded, 'lab.ini'), 'utf8')).toBe(fileText(edited, 'lab.ini'));
    const zip = unzipSync(deploymentZip(edited));
    expect(Object.fromEntries(Object.entries(zip).map(([name, bytes]) => [name, strFromU8(bytes)]))).toEqual({ 'common.ini': COMMON, 'lab.ini': fileText(edited, 'lab.ini') });

    // `mayday run` loads the exported file: the new port, and every other value as the hand-written file had it.
    const original = tempDir();
    writeFileSync(join(original, 'common.ini'), COMMON);
    writeFileSync(join(original, 'lab.ini'), LAB);
    const was = loadAsRun(join(original, 'lab.ini'));
    const now = loadAsRun(join(downloaded, 'lab.ini'));
    expect(was.findings).toEqual([]);
    expect(now.findings).toEqual([]);
    expect(now.config!.web.port).toBe(8200);
    expect({ ...now.config!, web: { ...now.config!.web, port: was.config!.web.port } }).toEqual(was.config);
    // The hand-written values really were read (not defaults): from both files, at their lines.
    expect(now.config!.log.level).toBe('warn');
    expect(now.config!.retention.days).toBe(365);
    expect(now.config!.node.data_dir).toBe('./var/lab');
    expect(now.origins.get('web.port')).toEqual({ kind: 'file', file: join(downloaded, 'lab.ini'), line: LAB.split('\n').indexOf('port   =   8000') + 1 });
    expect(now.origins.get('retention.protected_days')).toEqual({ kind: 'file', file: join(downloaded, 'common.ini'), line: COMMON.split('\n').indexOf('protected_days: 90') + 1 });

    // And the Configurator's diff of the two sees that one change and nothing else.
    const diff = await runMayday(['config', 'diff', original, downloaded]);
    expect(diff.stdout).toBe(`~ lab: web.port: 8000 -> 8200 (${join(downloaded, 'lab.ini')}:${LAB.split('\n').indexOf('port   =   8000') + 1})\n`);
    expect(diff.code).toBe(1);
  });

  it('import and export without an edit gives back the very bytes, and setting a value to what it is changes nothing', () => {
    const imported = mergeFiles([], [
      { name: 'common.ini', text: COMMON },
      { name: 'lab.ini', text: LAB },
    ]);
    // The form writes what it shows: the value as read, even where the file quotes it.
    const untouched = setOption(setOption(imported, 'lab.ini', 'node', 'data_dir', './var/lab'), 'common.ini', 'log', 'level', 'warn');
    expect(untouched).toBe(imported);
    const zip = unzipSync(deploymentZip(untouched));
    expect(strFromU8(zip['lab.ini'])).toBe(LAB);
    expect(strFromU8(zip['common.ini'])).toBe(COMMON);
  });
});
