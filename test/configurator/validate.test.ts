import { describe, expect, it } from 'vitest';
import { compileDeployment } from '../../src/configurator/compile.js';
import type { DeploymentFile, Finding } from '../../src/configurator/deployment.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { shadows } from '../../src/configurator/validate.js';

/**
 * The validator fed deployments with one mistake each. The base is the distributed preset
 * on three hosts (collector and web on a, processor-1 and scheduler on b, processor-2 on
 * c, sharing PostgreSQL, RabbitMQ and S3), which validates clean.
 */
const BASE = presetFiles('distributed', ['a', 'b', 'c']);

function withFile(files: DeploymentFile[], name: string, change: (text: string) => string): DeploymentFile[] {
  expect(files.some((f) => f.name === name), name).toBe(true);
  return files.map((f) => (f.name === name ? { ...f, text: change(f.text) } : f));
}

const append = (snippet: string) => (text: string) => `${text}\n${snippet}\n`;

/** The line of the first line equal to `line` in a file of `files`. */
function lineOf(files: DeploymentFile[], name: string, line: string): number {
  const index = files.find((f) => f.name === name)!.text.split('\n').indexOf(line);
  expect(index, `${name} has "${line}"`).toBeGreaterThanOrEqual(0);
  return index + 1;
}

function findings(files: DeploymentFile[]): Pick<Finding, 'layer' | 'code' | 'severity' | 'file' | 'line' | 'message'>[] {
  return compileDeployment(files).findings.map(({ layer, code, severity, file, line, message }) => ({ layer, code, severity, file, line, message }));
}

describe('presets', () => {
  it('both presets validate clean, with and without hosts', () => {
    for (const files of [presetFiles('all-in-one'), presetFiles('distributed'), BASE, presetFiles('all-in-one', ['box'])]) expect(findings(files)).toEqual([]);
  });

  it('the distributed preset has five nodes on three hosts, all sharing one queue, database and bucket', () => {
    const deployment = compileDeployment(BASE);
    expect(deployment.graph.hosts.map((h) => [h.id, h.nodes])).toEqual([
      ['a', ['node:collector', 'node:web']],
      ['b', ['node:processor-1', 'node:scheduler']],
      ['c', ['node:processor-2']],
    ]);
    expect(deployment.graph.resources.map((r) => `${r.kind} ${r.detail}`).sort()).toEqual([
      'database PostgreSQL a:5432/mayday',
      'processed-store s3://mayday-crashes/v1/processed_crash at http://a:9000',
      'queue RabbitMQ a:5672',
      'raw-store s3://mayday-crashes/v1/raw_crash at http://a:9000',
      'symbol-store s3://mayday-symbols/ at http://a:9000',
    ]);
    const edge = (from: string, to: string) => deployment.graph.edges.find((e) => e.from.endsWith(from) && e.to.endsWith(to))?.flows;
    expect(edge('collector', '#mayday.')).toEqual(['crash ids']);
    expect(edge('#mayday.', 'processor-2')).toEqual(['crash ids']);
    expect(edge('node:processor-1', '/mayday#')).toEqual(['index rows', 'heartbeats']);
  });
});

describe('schema layer', () => {
  it('an unknown option, with a suggestion', () => {
    const files = withFile(BASE, 'web.ini', (t) => t.replace('port = 8100', 'prot = 8100'));
    expect(findings(files)).toContainEqual({ layer: 'schema', code: 'unknown-option', severity: 'error', file: 'web.ini', line: lineOf(files, 'web.ini', 'prot = 8100'), message: 'unknown option web.prot (did you mean "port"?)' });
  });

  it('an unknown section, with a suggestion', () => {
    const files = withFile(BASE, 'web.ini', append('[storrage]\nbackend = fs'));
    expect(findings(files)).toContainEqual({ layer: 'schema', code: 'unknown-section', severity: 'error', file: 'web.ini', line: lineOf(files, 'web.ini', '[storrage]'), message: 'unknown section [storrage] (did you mean "storage"?)' });
  });

  it('a wrong type, a value out of range and a value not in an enum', () => {
    const files = withFile(BASE, 'collector.ini', (t) => t.replace('port = 8101', 'port = 70000') + '\n[collector]\nmax_dumps = many\n\n[log]\nlevel = loud\n');
    const found = findings(files);
    expect(found).toContainEqual(expect.objectContaining({ code: 'invalid-value', file: 'collector.ini', line: lineOf(files, 'collector.ini', 'port = 70000'), message: expect.stringMatching(/^web\.port: .*65535/) }));
    expect(found).toContainEqual(expect.objectContaining({ code: 'invalid-value', file: 'collector.ini', line: lineOf(files, 'collector.ini', 'max_dumps = many'), message: expect.stringMatching(/^collector\.max_dumps: /) }));
    expect(found).toContainEqual(expect.objectContaining({ code: 'invalid-value', file: 'collector.ini', line: lineOf(files, 'collector.ini', 'level = loud'), message: expect.stringMatching(/^log\.level: .*trace/) }));
  });

  it('a required option missing and a back end without what it needs', () => {
    const files = withFile(BASE, 'collector.ini', append('[throttle.rules.old]\nversion = ^0\\.'));
    const noUrl = withFile(BASE, 'common.ini', (t) => t.replace(/^url = postgres.*\n/m, ''));
    expect(findings(files)).toContainEqual(expect.objectContaining({ code: 'required', file: 'collector.ini', line: lineOf(files, 'collector.ini', '[throttle.rules.old]'), message: expect.stringContaining('action') }));
    expect(findings(noUrl)).toContainEqual({ layer: 'schema', code: 'requirement', severity: 'error', file: 'common.ini', line: lineOf(noUrl, 'common.ini', 'backend = postgresql'), message: 'database.backend = postgresql needs database.url' });
  });

  it('a mistake in a shared file is reported once, at its own line', () => {
    const files = withFile(BASE, 'common.ini', (t) => t.replace('pool_size = 5', 'pool_size = 0'));
    const found = findings(files).filter((f) => f.code === 'invalid-value');
    expect(found).toEqual([expect.objectContaining({ file: 'common.ini', line: lineOf(files, 'common.ini', 'pool_size = 0') })]);
  });

  it('a credential in an option that is not secret', () => {
    const files = withFile(BASE, 'processor-1.ini', append('[symbols]\nupstream_urls = https://me:hunter2@symbols.example.com/'));
    expect(findings(files)).toContainEqual({
      layer: 'schema',
      code: 'credentials-in-plain-option',
      severity: 'warning',
      file: 'processor-1.ini',
      line: lineOf(files, 'processor-1.ini', 'upstream_urls = https://me:hunter2@symbols.example.com/'),
      message: 'symbols.upstream_urls carries a password in its URL, but it is not a secret option: it would be shown by config explain and in logs',
    });
  });

  it('an include that is missing, and one that makes a cycle', () => {
    const missing = withFile(BASE, 'web.ini', (t) => t.replace('include = common.ini', 'include = commons.ini'));
    expect(findings(missing)).toContainEqual({ layer: 'schema', code: 'include', severity: 'error', file: 'web.ini', line: 1, message: 'cannot include commons.ini: commons.ini is not one of the deployment\'s files' });
    const cycle = withFile(BASE, 'common.ini', (t) => `include = extra.ini\n${t}`).concat({ name: 'extra.ini', text: 'include = common.ini\n' });
    expect(findings(cycle)).toContainEqual(expect.objectContaining({ code: 'include', file: 'extra.ini', line: 1, message: 'include of common.ini makes a cycle (collector.ini -> common.ini -> extra.ini -> common.ini)' }));
  });
});

describe('topology layer', () => {
  it('no collector, no processor', () => {
    const files = BASE.filter((f) => !['collector.ini', 'processor-1.ini', 'processor-2.ini'].includes(f.name));
    expect(findings(files)).toEqual([
      { layer: 'topology', code: 'no-collector', severity: 'error', file: 'web.ini', line: lineOf(files, 'web.ini', 'roles = web'), message: 'no node has the collector role: nothing accepts crash reports' },
      { layer: 'topology', code: 'no-processor', severity: 'error', file: 'web.ini', line: lineOf(files, 'web.ini', 'roles = web'), message: 'no node has the processor role: crashes are collected but never processed' },
    ]);
  });

  it('a second scheduler', () => {
    const files = withFile(BASE, 'processor-2.ini', (t) => t.replace('roles = processor', 'roles = processor, scheduler'));
    expect(findings(files)).toEqual([
      { layer: 'topology', code: 'second-scheduler', severity: 'error', file: 'processor-2.ini', line: lineOf(files, 'processor-2.ini', 'roles = processor, scheduler'), message: 'processor-2 is a second scheduler (scheduler is one): a deployment runs one' },
    ]);
  });

  it('two nodes with one name', () => {
    const files = withFile(BASE, 'processor-2.ini', (t) => t.replace('name = processor-2', 'name = processor-1'));
    expect(findings(files)).toContainEqual(expect.objectContaining({ code: 'duplicate-node-name', file: 'processor-2.ini', line: lineOf(files, 'processor-2.ini', 'name = processor-1') }));
  });

  it('a queue some node publishes to and none consumes', () => {
    const files = withFile(BASE, 'web.ini', append('[queue]\nprefix = reproc.'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'queue-unconsumed',
        severity: 'error',
        file: 'web.ini',
        line: lineOf(files, 'web.ini', 'prefix = reproc.'),
        message: 'web puts crash ids on queues reproc.* (RabbitMQ a:5672), which no processor consumes (processors read queues mayday.* on RabbitMQ a:5672)',
      },
    ]);
  });

  it('a queue a processor consumes and no collector publishes to', () => {
    const files = withFile(BASE, 'processor-2.ini', append('[queue]\nprefix = staging.'));
    expect(findings(files)).toEqual([
      { layer: 'topology', code: 'queue-unpublished', severity: 'warning', file: 'processor-2.ini', line: lineOf(files, 'processor-2.ini', 'prefix = staging.'), message: 'processor-2 consumes queues staging.* (RabbitMQ a:5672), where no collector puts crash ids' },
    ]);
  });

  it('processors reading raw crashes from a storage no collector writes', () => {
    const files = withFile(BASE, 'processor-2.ini', append('[storage]\ns3_prefix = old/'));
    expect(findings(files)).toContainEqual({
      layer: 'topology',
      code: 'raw-store-unwritten',
      severity: 'error',
      file: 'processor-2.ini',
      line: lineOf(files, 'processor-2.ini', 's3_prefix = old/'),
      message: 'processor-2 reads raw crashes from s3://mayday-crashes/old/v1/raw_crash at http://a:9000, where no collector writes them (collectors write to s3://mayday-crashes/v1/raw_crash at http://a:9000)',
    });
  });

  it('web and processors on different databases', () => {
    const files = withFile(BASE, 'processor-1.ini', append('[database]\nschema = staging'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'database-split',
        severity: 'error',
        file: 'processor-1.ini',
        line: lineOf(files, 'processor-1.ini', 'schema = staging'),
        message: 'processor-1 uses the database PostgreSQL a:5432/mayday schema staging, but the web nodes read PostgreSQL a:5432/mayday: the crashes it processes would never be searchable',
      },
    ]);
  });

  it('filesystem storage, an embedded queue or an SQLite database used by nodes on different hosts', () => {
    const fsStorage = withFile(BASE, 'common.ini', (t) => t.replace('backend = s3', 'backend = fs'));
    const line = lineOf(fsStorage, 'common.ini', 'backend = fs');
    const found = findings(fsStorage).filter((f) => f.code === 'host-local-shared');
    expect(found.map((f) => [f.file, f.line])).toEqual(Array(found.length).fill(['common.ini', line]));
    expect(found.map((f) => f.message)).toContain('processor-2 keeps raw crashes on its own host (files at c:/deployment/var/processor-2/raw), but collector, processor-1, web, scheduler on a, b must share it');
    // Nothing else: the mismatches that follow from it are not reported again.
    expect(findings(fsStorage).filter((f) => f.code !== 'host-local-shared')).toEqual([]);

    const embeddedQueue = withFile(BASE, 'common.ini', (t) => t.replace(/\[queue\]\nbackend = rabbitmq\nurl = .*\nprefix = mayday\.\n/, '[queue]\nbackend = sqlite\n'));
    expect(findings(embeddedQueue).map((f) => f.code)).toEqual(Array(5).fill('host-local-shared'));
    expect(findings(embeddedQueue)[0]).toMatchObject({ file: 'common.ini', line: lineOf(embeddedQueue, 'common.ini', 'backend = sqlite'), message: expect.stringContaining('the processing queue on its own host (SQLite at a:/deployment/var/collector/queue.sqlite)') });

    const sqlite = withFile(BASE, 'processor-2.ini', append('[database]\nbackend = sqlite'));
    expect(findings(sqlite)).toEqual([
      expect.objectContaining({ code: 'requirement', file: 'common.ini', message: expect.stringContaining('set database.backend = postgresql') }),
      expect.objectContaining({ code: 'host-local-shared', file: 'processor-2.ini', line: lineOf(sqlite, 'processor-2.ini', 'backend = sqlite'), message: 'processor-2 keeps the database on its own host (SQLite at c:/deployment/var/processor-2/mayday.sqlite), but collector, processor-1, web, scheduler on a, b must share it' }),
    ]);
  });

  it('symbol uploads going to a store no processor reads', () => {
    const files = withFile(BASE, 'web.ini', append('[symbols]\ns3_bucket = symbols-new'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'symbols-unread',
        severity: 'error',
        file: 'web.ini',
        line: lineOf(files, 'web.ini', 's3_bucket = symbols-new'),
        message: 'web stores uploaded symbols in s3://symbols-new/ at http://a:9000, which no processor reads: uploads would never symbolicate a crash',
      },
    ]);
  });

  it('two nodes on one host binding one port', () => {
    const files = withFile(BASE, 'web.ini', (t) => t.replace('port = 8100', 'port = 8101'));
    expect(findings(files)).toEqual([
      { layer: 'topology', code: 'port-clash', severity: 'error', file: 'web.ini', line: lineOf(files, 'web.ini', 'port = 8101'), message: 'web listens on port 8101 of a, as collector does (collector.ini): the second to start would fail' },
    ]);
    // The same port on two hosts is fine, and so is one port on two addresses of a host.
    expect(findings(withFile(BASE, 'processor-2.ini', (t) => t.replace('port = 8112', 'port = 8111')))).toEqual([]);
  });

  it('a heartbeat interval the dashboard would call stale', () => {
    const files = withFile(BASE, 'scheduler.ini', (t) => t.replace('[node]\n', '[node]\nheartbeat_interval = 20s\n'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'heartbeat-stale',
        severity: 'warning',
        file: 'scheduler.ini',
        line: lineOf(files, 'scheduler.ini', 'heartbeat_interval = 20s'),
        message: 'scheduler reports every 20 s, but the Operations Dashboard calls a node stale after 15 s without a heartbeat (and down after 30 s): it would show stale between its beats',
      },
    ]);
  });

  it('annotation fields declared on some nodes and not on others', () => {
    const files = withFile(BASE, 'web.ini', append('[annotations.fields.gpu_vendor]\nannotation = GPUVendor'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'annotation-fields-differ',
        severity: 'error',
        file: 'web.ini',
        line: lineOf(files, 'web.ini', '[annotations.fields.gpu_vendor]'),
        message: 'web declares other [annotations.fields.*] than collector, processor-1, processor-2: its pages would search, or show unprotected, other fields than the index holds',
      },
    ]);
    // Declared once in the shared file, every node agrees.
    expect(findings(withFile(BASE, 'common.ini', append('[annotations.fields.gpu_vendor]\nannotation = GPUVendor')))).toEqual([]);
  });

  it('throttle rules that can never match', () => {
    const rules = '[throttle.rules.nightly]\nchannel = nightly\naction = defer\n\n[throttle.rules.nightly_windows]\nchannel = nightly\nannotation.OS = ^Windows\naction = reject';
    const files = withFile(BASE, 'collector.ini', append(rules));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'throttle-shadowed',
        severity: 'warning',
        file: 'collector.ini',
        line: lineOf(files, 'collector.ini', '[throttle.rules.nightly_windows]'),
        message: `throttle rule "nightly_windows" can never match: rule "nightly" (line ${lineOf(files, 'collector.ini', '[throttle.rules.nightly]')}) comes first and matches every crash it would`,
      },
    ]);
    const sampled = withFile(BASE, 'collector.ini', append(rules.replace('action = defer', 'action = defer\nsample = 10')));
    expect(findings(sampled)).toEqual([]);
    const otherProduct = withFile(BASE, 'collector.ini', append('[throttle]\nproducts = Firefox\n\n[throttle.rules.tb]\nproduct = Thunderbird\naction = reject'));
    expect(findings(otherProduct)).toEqual([expect.objectContaining({ code: 'throttle-unmatchable', line: lineOf(otherProduct, 'collector.ini', '[throttle.rules.tb]') })]);
  });

  it('shadowing is decided condition by condition', () => {
    const rule = (fields: Record<string, unknown>, annotation: Record<string, string> = {}) => ({ name: 'r', fields: { action: 'reject', ...fields }, families: { annotation } });
    expect(shadows(rule({}), rule({ product: ['A'] }))).toBe(true);
    expect(shadows(rule({ product: ['A', 'B'] }), rule({ product: ['A'] }))).toBe(true);
    expect(shadows(rule({ product: ['A'] }), rule({ product: ['A', 'B'] }))).toBe(false);
    expect(shadows(rule({ product: ['A'] }), rule({}))).toBe(false);
    expect(shadows(rule({ version: '^1' }), rule({ version: '^1', channel: ['x'] }))).toBe(true);
    expect(shadows(rule({ version: '^1' }), rule({ version: '^2' }))).toBe(false);
    expect(shadows(rule({ sample: 50 }), rule({}))).toBe(false);
    expect(shadows(rule({ sample: 100 }), rule({}))).toBe(true);
    expect(shadows(rule({}, { OS: 'Win' }), rule({}, { OS: 'Win', X: '1' }))).toBe(true);
    expect(shadows(rule({}, { OS: 'Win' }), rule({}))).toBe(false);
  });
});

describe('security layer', () => {
  it('a web node on every interface', () => {
    const files = withFile(BASE, 'web.ini', (t) => t.replace('host = a\nport = 8100', 'host = 0.0.0.0\nport = 8100'));
    expect(findings(files)).toEqual([expect.objectContaining({ layer: 'security', code: 'open-without-accounts', severity: 'warning', file: 'web.ini', line: lineOf(files, 'web.ini', 'host = 0.0.0.0') })]);
  });

  it('secrets in a file others can read', () => {
    const files = BASE.map((f) => (f.name === 'common.ini' ? { ...f, mode: 0o644 } : f));
    expect(findings(files)).toEqual([
      {
        layer: 'security',
        code: 'secret-readable',
        severity: 'warning',
        file: 'common.ini',
        line: lineOf(files, 'common.ini', 'url = postgres://mayday:mayday@a:5432/mayday'),
        message: 'common.ini holds a secret (database.url) and is readable by every user of the machine (mode 644)',
      },
    ]);
  });

  it('a plain-HTTP public URL for a node that takes logins', () => {
    const fixed = withFile(BASE, 'web.ini', (t) => t.replace('port = 8100', 'port = 8100\npublic_url = http://crashes.example.com/'));
    expect(findings(fixed)).toEqual([
      {
        layer: 'security',
        code: 'plain-http-login',
        severity: 'warning',
        file: 'web.ini',
        line: lineOf(fixed, 'web.ini', 'public_url = http://crashes.example.com/'),
        message: 'web takes logins at http://crashes.example.com/, over plain HTTP: passwords and session cookies cross the network in clear',
      },
    ]);
    expect(findings(withFile(BASE, 'web.ini', (t) => t.replace('port = 8100', 'port = 8100\npublic_url = https://crashes.example.com/')))).toEqual([]);
  });
});
