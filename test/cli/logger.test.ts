import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createNodeLogger } from '../../src/cli/logger.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

/** Collects what a logger writes; `isTTY` stands for a terminal on standard output. */
class Capture {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function config(ini: string): Config {
  const result = loadConfig({ file: { name: 'node.ini', text: ini } });
  if (!result.config) throw new Error(result.findings.map((f) => f.message).join('; '));
  return result.config;
}

describe('log.format', () => {
  it('auto is pretty on a terminal and JSON otherwise; json and pretty are what they say', () => {
    expect(chooseLogFormat('auto', true)).toBe('pretty');
    expect(chooseLogFormat('auto', false)).toBe('json');
    expect(chooseLogFormat('auto', undefined)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('json', false)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
    expect(chooseLogFormat('pretty', true)).toBe('pretty');
  });

  it('defaults to auto, and refuses other values with the allowed ones', () => {
    expect(config('').log.format).toBe('auto');
    expect(config('[log]\nformat = pretty\n').log.format).toBe('pretty');
    const bad = loadConfig({ file: { name: 'node.ini', text: '[log]\nformat = colour\n' } });
    expect(bad.config).toBeUndefined();
    expect(bad.findings.map((f) => f.message).join('\n')).toMatch(/log\.format: .*auto.*json.*pretty/);
  });

  it('writes one JSON object a line when the output is not a terminal (the default)', async () => {
    const out = new Capture(false);
    const log = await createNodeLogger(config('[node]\nname = edge-1\n'), out);
    log.info({ crash_id: 'de1bb258-cbbf-4589-a673-34f800160918' }, 'crash processed');
    const lines = out.text.trim().split('\n');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 30, node: 'edge-1', msg: 'crash processed', crash_id: 'de1bb258-cbbf-4589-a673-34f800160918' });
  });

  it('writes readable, coloured lines on a terminal: time, level, role, message, then the fields', async () => {
    const out = new Capture(true);
    const log = await createNodeLogger(config('[node]\nname = edge-1\n'), out);
    log.child({ role: 'processor' }).warn({ queue: 'standard', depth: 12 }, 'queue is backing up');
    log.info('node started');
    expect(out.text).not.toMatch(/^\{/);
    expect(out.text).toMatch(/\u001b\[/); // ANSI colours
    const plain = out.text.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain.split('\n')).toEqual([
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: processor: queue is backing up \{"queue":"standard","depth":12\}$/),
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: node started$/),
      '',
    ]);
    // pid, host name and node name are noise on one's own terminal.
    expect(plain).not.toMatch(/pid|hostname|edge-1/);
  });

  it('log.format = pretty without a terminal: readable, without colours (a file or a pipe keeps no escapes)', async () => {
    const out = new Capture(false);
    const log = await createNodeLogger(config('[log]\nformat = pretty\nlevel = debug\n'), out);
    log.debug('reading symbols');
    expect(out.text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] DEBUG: reading symbols\n$/);
  });

  it('log.format = json on a terminal stays JSON', async () => {
    const out = new Capture(true);
    const log = await createNodeLogger(config('[log]\nformat = json\n'), out);
    log.error({ err: new Error('disk full') }, 'write failed');
    expect(JSON.parse(out.text)).toMatchObject({ level: 50, msg: 'write failed', err: { message: 'disk full' } });
  });
});
