import { describe, expect, it } from 'vitest';
import { compileDeployment } from '../../src/configurator/compile.js';
import type { DeploymentFile, Finding } from '../../src/configurator/deployment.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { shadows } from '../../src/configurator/validate.js';
import { alertRules } from '../../src/roles/scheduler/alerts/rules.js';

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

/** Single sign-on settings a web node needs (with web.public_url). */
const SSO = '[auth]\noidc_issuer = https://sso.example.org/realms/acme\noidc_client_id = mayday';

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

  it('both presets give the scheduler default alert rules, each with a comment saying why, and send nothing until a webhook is set', () => {
    const expected = {
      'all-in-one': [
        'queue_age: queue_age warning threshold 600 queues priority,standard',
        'failure_rate: failure_rate warning threshold 10 window 900000',
        'job_failed: job_failed warning threshold 1',
        'dependency_unreachable: dependency_unreachable critical threshold 1 for 60000',
      ],
      distributed: [
        'node_down: node_down critical threshold 30',
        'nodes_below: nodes_below critical threshold 1 for 120000 roles collector,processor',
        'queue_age: queue_age warning threshold 600 queues priority,standard',
        'failure_rate: failure_rate warning threshold 10 window 900000',
        'job_failed: job_failed warning threshold 1',
        'dependency_unreachable: dependency_unreachable critical threshold 1 for 60000',
      ],
    };
    for (const [preset, schedulerFile] of [['all-in-one', 'mayday.ini'], ['distributed', 'scheduler.ini']] as const) {
      const files = presetFiles(preset);
      const scheduler = compileDeployment(files).nodes.find((n) => n.roles.includes('scheduler'))!;
      expect(scheduler.file, preset).toBe(schedulerFile);
      // As the scheduler reads them (it refuses to start on a rule it cannot use).
      const rules = alertRules(scheduler.config.alerts.rules, scheduler.config.dashboard.down_after);
      const described = rules.map((r) =>
        [
          `${r.name}: ${r.kind} ${r.severity} threshold ${r.threshold}`,
          r.kind === 'failure_rate' ? `window ${r.windowMs}` : '',
          r.forMs > 0 ? `for ${r.forMs}` : '',
          r.roles ? `roles ${r.roles.join(',')}` : '',
          r.queues ? `queues ${r.queues.join(',')}` : '',
        ].filter(Boolean).join(' '),
      );
      expect(described, preset).toEqual(expected[preset]);
      // Every rule's section has a one-line comment just above it.
      const lines = files.find((f) => f.name === schedulerFile)!.text.split('\n');
      for (const r of rules) {
        const at = lines.indexOf(`[alerts.rules.${r.name}]`);
        expect(lines[at - 1], r.name).toMatch(/^; \S.{20,}/);
        expect(lines[at - 2], r.name).toBe('');
      }
      // Nothing is sent and no monitor pinged: the webhook and the heartbeat are examples in comments.
      expect(scheduler.config.alerts.webhook_urls, preset).toEqual([]);
      expect(scheduler.config.alerts.heartbeat_url, preset).toBeUndefined();
      // Uncommented, the examples are [alerts] options that validate (they sit under its header, not in the section before).
      const uncommented = files.map((f) => (f.name === schedulerFile ? { ...f, text: f.text.replace(/^; ((?:webhook_urls|format|heartbeat_url) = .*)$/gm, '$1') } : f));
      const enabled = compileDeployment(uncommented);
      expect(enabled.findings.filter((f) => f.severity === 'error'), preset).toEqual([]);
      const { alerts } = enabled.nodes.find((n) => n.roles.includes('scheduler'))!.config;
      expect([alerts.webhook_urls, alerts.format, alerts.heartbeat_url], preset).toEqual([['https://hooks.slack.com/services/T000/B000/XXXX'], 'slack', 'https://hc-ping.com/YOUR-CHECK-UUID']);
    }
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
    expect(found).toEqual([
      { layer: 'schema', code: 'invalid-value', severity: 'error', file: 'collector.ini', line: lineOf(files, 'collector.ini', 'port = 70000'), message: 'web.port: must be at most 65535, got 70000' },
      { layer: 'schema', code: 'invalid-value', severity: 'error', file: 'collector.ini', line: lineOf(files, 'collector.ini', 'max_dumps = many'), message: 'collector.max_dumps: expected an integer, got "many"' },
      { layer: 'schema', code: 'invalid-value', severity: 'error', file: 'collector.ini', line: lineOf(files, 'collector.ini', 'level = loud'), message: 'log.level: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"' },
    ]);
  });

  it('a required option missing and a back end without what it needs', () => {
    const files = withFile(BASE, 'collector.ini', append('[throttle.rules.old]\nversion = ^0\\.'));
    const noUrl = withFile(BASE, 'common.ini', (t) => t.replace(/^url = postgres.*\n/m, ''));
    expect(findings(files)).toEqual([
      {
        layer: 'schema',
        code: 'required',
        severity: 'error',
        file: 'collector.ini',
        line: lineOf(files, 'collector.ini', '[throttle.rules.old]'),
        message: '[throttle.rules.old]: action is required: What a match does: accept (store and queue), defer (store, do not queue), reject (answer Discarded=NAME, store nothing).',
      },
    ]);
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
    // processor-2 also runs retention with the defaults (protected-kept-forever): the scheduler finding is the one about roles.
    expect(findings(files).filter((f) => f.code !== 'protected-kept-forever')).toEqual([
      { layer: 'topology', code: 'second-scheduler', severity: 'error', file: 'processor-2.ini', line: lineOf(files, 'processor-2.ini', 'roles = processor, scheduler'), message: 'processor-2 is a second scheduler (scheduler is one): a deployment runs one' },
    ]);
  });

  it('a second scheduler-only node is the one blamed, the second in file order, whatever the names', () => {
    const scheduler = BASE.find((f) => f.name === 'scheduler.ini')!;
    const other = { name: 'housekeeping.ini', text: scheduler.text.replace('name = scheduler', 'name = housekeeping').replace('port = 8121', 'port = 8122') };
    for (const files of [[...BASE, other], [...BASE.filter((f) => f !== scheduler), other, scheduler]]) {
      const second = files.filter((f) => f === other || f === scheduler)[1];
      const [kept, blamed] = second === other ? ['scheduler', 'housekeeping'] : ['housekeeping', 'scheduler'];
      expect(findings(files)).toEqual([
        { layer: 'topology', code: 'second-scheduler', severity: 'error', file: second.name, line: lineOf(files, second.name, 'roles = scheduler'), message: `${blamed} is a second scheduler (${kept} is one): a deployment runs one` },
      ]);
    }
  });

  it('two nodes with one name', () => {
    const files = withFile(BASE, 'processor-2.ini', (t) => t.replace('name = processor-2', 'name = processor-1'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'duplicate-node-name',
        severity: 'error',
        file: 'processor-2.ini',
        line: lineOf(files, 'processor-2.ini', 'name = processor-1'),
        message: 'node.name "processor-1" is also the name of the node in processor-1.ini: the registry and the Dashboard would mix them up',
      },
    ]);
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
        message: 'scheduler reports every 20 s, but the Operations Dashboard on web calls a node stale after 15 s without a heartbeat (and down after 30 s): it would show stale between its beats',
      },
    ]);
  });

  it('a dashboard.down_after lowered on the web node only: every node is judged by the web node\'s value, and the fault is that line', () => {
    const files = withFile(BASE, 'web.ini', append('[dashboard]\ndown_after = 5s'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'heartbeat-stale',
        severity: 'warning',
        file: 'web.ini',
        line: lineOf(files, 'web.ini', 'down_after = 5s'),
        message: 'dashboard.down_after = 5 s makes the Operations Dashboard on web call a node stale after 2.5 s without a heartbeat (and down after 5 s), but collector, processor-1, processor-2, web, scheduler report every 10 s: they would show stale between their beats',
      },
      // The preset's node_down rule takes the scheduler's down_after, which the web node no longer shares.
      {
        layer: 'topology',
        code: 'down-after-differs',
        severity: 'warning',
        file: 'web.ini',
        line: lineOf(files, 'web.ini', 'down_after = 5s'),
        message: 'web has dashboard.down_after = 5 s, but scheduler 30 s: the node_down alerts of scheduler (rule "node_down") and the Dashboard on web would disagree about which nodes are down',
      },
    ]);
    expect(compileDeployment(files).findings[0].hint).toBe('raise dashboard.down_after to 30 s or more (three heartbeat intervals), or lower node.heartbeat_interval of collector, processor-1, processor-2, web, scheduler');
    // A node's own down_after judges nothing unless it serves the Dashboard or runs the alerts.
    const ownValue = withFile(BASE, 'processor-2.ini', append('[dashboard]\ndown_after = 5s'));
    expect(findings(ownValue).map((f) => f.code)).toEqual(['option-unread']);
  });

  it('web and scheduler nodes that disagree on dashboard.down_after', () => {
    // The preset's scheduler has a node_down rule without a threshold: it takes dashboard.down_after.
    const rule = '[alerts.rules.down]\nkind = node_down';
    const files = withFile(withFile(BASE, 'scheduler.ini', append(rule)), 'web.ini', append('[dashboard]\ndown_after = 1m'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'down-after-differs',
        severity: 'warning',
        file: 'web.ini',
        line: lineOf(files, 'web.ini', 'down_after = 1m'),
        message: 'web has dashboard.down_after = 60 s, but scheduler 30 s: the node_down alerts of scheduler (rule "node_down", "down") and the Dashboard on web would disagree about which nodes are down',
      },
    ]);
    // The scheduler's alerts judge heartbeats too: a 40 s interval sets off the alert between beats.
    const slow = withFile(withFile(BASE, 'scheduler.ini', append(rule)), 'processor-1.ini', (t) => t.replace('[node]\n', '[node]\nheartbeat_interval = 40s\n'));
    expect(findings(slow)).toEqual([
      {
        layer: 'topology',
        code: 'heartbeat-stale',
        severity: 'warning',
        file: 'processor-1.ini',
        line: lineOf(slow, 'processor-1.ini', 'heartbeat_interval = 40s'),
        message: 'processor-1 reports every 40 s, but the Operations Dashboard on web calls a node stale after 15 s without a heartbeat (and down after 30 s): it would show stale between its beats',
      },
    ]);
    // Two web nodes behind one load balancer.
    const web = BASE.find((f) => f.name === 'web.ini')!;
    const twoWebs = [...BASE, { name: 'web-2.ini', text: `${web.text.replace('name = web', 'name = web-2').replace('port = 8100', 'port = 8102')}\n[dashboard]\ndown_after = 1m\n` }];
    expect(findings(twoWebs)).toEqual([
      {
        layer: 'topology',
        code: 'down-after-differs',
        severity: 'warning',
        file: 'web-2.ini',
        line: lineOf(twoWebs, 'web-2.ini', 'down_after = 1m'),
        message: 'web-2 has dashboard.down_after = 60 s, but web 30 s: behind one load balancer, the Dashboard would call a node stale or down depending on the web node that answers',
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
    const otherProduct = withFile(BASE, 'collector.ini', append('[throttle]\nproducts = Firefox\n\n[throttle.rules.tb]\nproduct = Thunderbird\naction = reject\n\n[throttle.rules.none]\nsample = 0\naction = reject'));
    expect(findings(otherProduct)).toEqual([
      {
        layer: 'topology',
        code: 'throttle-unmatchable',
        severity: 'warning',
        file: 'collector.ini',
        line: lineOf(otherProduct, 'collector.ini', '[throttle.rules.tb]'),
        message: 'throttle rule "tb" can never match: throttle.products accepts only Firefox, and the rule is for Thunderbird',
      },
      { layer: 'topology', code: 'throttle-unmatchable', severity: 'warning', file: 'collector.ini', line: lineOf(otherProduct, 'collector.ini', '[throttle.rules.none]'), message: 'throttle rule "none" has sample = 0: it never applies' },
    ]);
  });

  it('a web node reading crashes where no collector or processor writes them', () => {
    const prefix = withFile(BASE, 'web.ini', append('[storage]\ns3_prefix = old/'));
    expect(findings(prefix)).toEqual([
      {
        layer: 'topology',
        code: 'web-stores-unwritten',
        severity: 'error',
        file: 'web.ini',
        line: lineOf(prefix, 'web.ini', 's3_prefix = old/'),
        message:
          'web reads raw crashes from s3://mayday-crashes/old/v1/raw_crash at http://a:9000 and processed crashes from s3://mayday-crashes/old/v1/processed_crash at http://a:9000, where no collector or processor writes them (collectors write to s3://mayday-crashes/v1/raw_crash at http://a:9000; processors to s3://mayday-crashes/v1/processed_crash at http://a:9000): its report pages would not find the crashes the index lists',
      },
    ]);
    // On one host with files: a raw path of its own is the raw store alone.
    const oneHost = withFile(presetFiles('distributed'), 'common.ini', (t) => t.replace('backend = s3', 'backend = fs\nraw_path = /srv/mayday/raw\nprocessed_path = /srv/mayday/processed'));
    const files = withFile(oneHost, 'web.ini', append('[storage]\nraw_path = /srv/mayday/raw-old'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'raw-store-unwritten',
        severity: 'error',
        file: 'web.ini',
        line: lineOf(files, 'web.ini', 'raw_path = /srv/mayday/raw-old'),
        message: 'web reads raw crashes from /srv/mayday/raw-old, where no collector writes them (collectors write to /srv/mayday/raw): it could not serve dumps or reprocess crashes',
      },
    ]);
    const processed = withFile(oneHost, 'web.ini', append('[storage]\nprocessed_path = /srv/mayday/processed-old'));
    expect(findings(processed)).toEqual([
      {
        layer: 'topology',
        code: 'processed-store-unwritten',
        severity: 'error',
        file: 'web.ini',
        line: lineOf(processed, 'web.ini', 'processed_path = /srv/mayday/processed-old'),
        message: 'web reads processed crashes from /srv/mayday/processed-old, where no processor writes them (processors write to /srv/mayday/processed): its report pages would not find the crashes the index lists',
      },
    ]);
  });

  it('an option set on a node whose roles never read it', () => {
    const files = withFile(withFile(BASE, 'web.ini', append('[retention]\ndays = 30\n\n[throttle.rules.nightly]\nchannel = nightly\naction = reject')), 'collector.ini', append('[processor]\nworkers = 4'));
    expect(findings(files)).toEqual([
      { layer: 'topology', code: 'option-unread', severity: 'warning', file: 'collector.ini', line: lineOf(files, 'collector.ini', 'workers = 4'), message: "processor.workers is set but not read by this node's roles (collector): only processor nodes read it" },
      { layer: 'topology', code: 'option-unread', severity: 'warning', file: 'web.ini', line: lineOf(files, 'web.ini', '[throttle.rules.nightly]'), message: "throttle.rules is set but not read by this node's roles (web): only collector nodes read it" },
      { layer: 'topology', code: 'option-unread', severity: 'warning', file: 'web.ini', line: lineOf(files, 'web.ini', 'days = 30'), message: "retention.days is set but not read by this node's roles (web): only scheduler nodes read it" },
    ]);
    expect(compileDeployment(files).findings.find((f) => f.option === 'retention.days')?.hint).toBe('move it to the file of scheduler (scheduler.ini), or remove it');
    // In the shared file it is meant for everyone; shared sections and options every node reads are never reported.
    expect(findings(withFile(BASE, 'common.ini', append('[retention]\ndays = 30')))).toEqual([]);
    expect(findings(withFile(BASE, 'web.ini', append('[collector]\nmax_request_size = 50MB\n\n[log]\nlevel = debug')))).toEqual([]);
  });

  it('protected data kept forever', () => {
    const files = withFile(BASE, 'scheduler.ini', (t) => t.replace('protected_days = 90', 'protected_days = 0'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'protected-kept-forever',
        severity: 'warning',
        file: 'scheduler.ini',
        line: lineOf(files, 'scheduler.ini', 'protected_days = 0'),
        message: "scheduler keeps every crash forever (retention.days = 0, protected_days = 0): the raw crashes, where protected data lives (the dumps' memory and the annotations behind url, email, user_comments and app_notes), are never deleted",
      },
    ]);
    expect(findings(withFile(files, 'scheduler.ini', (t) => t.replace('protected_days = 0', 'days = 365')))).toEqual([]);
  });

  it('more PostgreSQL connections than the server takes by default', () => {
    const files = withFile(BASE, 'common.ini', (t) => t.replace('pool_size = 5', 'pool_size = 20'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'postgres-connections',
        severity: 'warning',
        file: 'common.ini',
        line: lineOf(files, 'common.ini', 'pool_size = 20'),
        message: 'the 5 nodes on PostgreSQL a:5432 (collector, processor-1, processor-2, web, scheduler) may open 100 connections (database.pool_size 20 each), but PostgreSQL takes 97 by default (max_connections 100 less 3 reserved)',
      },
    ]);
    // With the default pool size (10), ten nodes are too many: the finding is at the back end's line.
    const processor = BASE.find((f) => f.name === 'processor-2.ini')!;
    const more = [3, 4, 5, 6, 7].map((i) => ({ name: `processor-${i}.ini`, text: processor.text.replace('name = processor-2', `name = processor-${i}`).replace('port = 8112', `port = ${8110 + i}`) }));
    const ten = withFile([...BASE, ...more], 'common.ini', (t) => t.replace('pool_size = 5\n', ''));
    expect(findings(ten)).toEqual([
      {
        layer: 'topology',
        code: 'postgres-connections',
        severity: 'warning',
        file: 'common.ini',
        line: lineOf(ten, 'common.ini', 'backend = postgresql'),
        message: 'the 10 nodes on PostgreSQL a:5432 (collector, processor-1, processor-2, web, scheduler, processor-3, processor-4, processor-5, processor-6, processor-7) may open 100 connections (database.pool_size 10 each), but PostgreSQL takes 97 by default (max_connections 100 less 3 reserved)',
      },
    ]);
  });

  it('web nodes that sign people in differently, and an issuer over plain HTTP', () => {
    const web = BASE.find((f) => f.name === 'web.ini')!;
    const withSso = (text: string, issuer: string) => `${text.replace('port = 8100', 'port = 8100\npublic_url = https://crashes.example.org/')}\n${SSO.replace('https://sso.example.org/realms/acme', issuer)}\n`;
    const files = [
      ...BASE.filter((f) => f !== web),
      { name: 'web.ini', text: withSso(web.text, 'https://sso.example.org/realms/acme') },
      { name: 'web-2.ini', text: withSso(web.text.replace('name = web', 'name = web-2'), 'https://sso.example.org/realms/other').replace('port = 8100', 'port = 8102') },
    ];
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'auth-differs',
        severity: 'error',
        file: 'web-2.ini',
        line: lineOf(files, 'web-2.ini', 'oidc_issuer = https://sso.example.org/realms/other'),
        message: 'web-2 has other [auth] settings than web (auth.oidc_issuer): behind one load balancer, a login started on one web node and finished on another would fail, and the login page would depend on the node that answers',
      },
    ]);
    const plain = withFile(BASE, 'web.ini', (t) => withSso(t, 'http://sso.example.org/realms/acme'));
    expect(findings(plain)).toEqual([
      {
        layer: 'security',
        code: 'oidc-plain-http',
        severity: 'warning',
        file: 'web.ini',
        line: lineOf(plain, 'web.ini', 'oidc_issuer = http://sso.example.org/realms/acme'),
        message: "auth.oidc_issuer http://sso.example.org/realms/acme is plain HTTP: the provider's discovery document, signing keys and tokens would cross the network in clear, and anyone on the path could alter them to sign in as anyone",
      },
    ]);
    expect(findings(withFile(BASE, 'web.ini', (t) => withSso(t, 'http://127.0.0.1:8080/realms/dev')))).toEqual([]);
  });

  it('an alert rule watching a node the deployment does not have', () => {
    const files = withFile(BASE, 'scheduler.ini', append('[alerts.rules.ingest_down]\nkind = node_down\nthreshold = 60\nnode = collector, web@a, colector-2, processor-1@c'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'alert-rule-unknown-node',
        severity: 'warning',
        file: 'scheduler.ini',
        line: lineOf(files, 'scheduler.ini', 'node = collector, web@a, colector-2, processor-1@c'),
        message: 'alert rule "ingest_down" watches nodes "colector-2" and "processor-1@c", which are not in this deployment (its nodes: collector, processor-1, processor-2, web, scheduler): the rule would never fire for them',
      },
    ]);
  });

  it('a nodes_below alert rule without a role', () => {
    const files = withFile(BASE, 'scheduler.ini', append('[alerts.rules.fleet]\nkind = nodes_below\nthreshold = 2'));
    expect(findings(files)).toEqual([
      {
        layer: 'topology',
        code: 'alert-rule-needs-role',
        severity: 'error',
        file: 'scheduler.ini',
        // The appended rule's kind line (the preset has a nodes_below rule of its own above it).
        line: lineOf(files, 'scheduler.ini', '[alerts.rules.fleet]') + 1,
        message: 'alert rule "fleet" is nodes_below without a role: it must say whose running nodes it counts, and scheduler would not start with it',
      },
    ]);
    expect(findings(withFile(BASE, 'scheduler.ini', append('[alerts.rules.fleet]\nkind = nodes_below\nrole = processor\nthreshold = 2')))).toEqual([]);
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
    const line = lineOf(files, 'web.ini', 'host = 0.0.0.0');
    expect(findings(files)).toEqual([
      {
        layer: 'security',
        code: 'open-without-accounts',
        severity: 'warning',
        file: 'web.ini',
        line,
        message: 'web serves Crash Stats, the Configurator and the Dashboard on every interface (0.0.0.0:8100); until the first account exists (a user or an API token), the Configurator and the Dashboard are open to anyone who reaches it',
      },
    ]);
    // With single sign-on and declared protected fields, the message says how accounts come and what stays hidden.
    const sso = withFile(files, 'web.ini', (t) => `${t.replace('port = 8100', 'port = 8100\npublic_url = https://crashes.example.org/')}\n${SSO}\n`);
    const withFields = withFile(sso, 'common.ini', append('[annotations.fields.serial]\nannotation = Serial\nprotected = true'));
    expect(findings(withFields)).toEqual([
      {
        layer: 'security',
        code: 'open-without-accounts',
        severity: 'warning',
        file: 'web.ini',
        line,
        message:
          'web serves Crash Stats, the Configurator and the Dashboard on every interface (0.0.0.0:8100); it signs people in through single sign-on (https://sso.example.org/realms/acme), but until the first account exists (made at a first single sign-on login, or by mayday users create, or an API token), the Configurator and the Dashboard are open to anyone who reaches it; visitors without an account never see protected data (url, email, user_comments, app_notes and the declared serial), so whoever needs it needs an account with view_protected',
      },
    ]);
    expect(compileDeployment(withFields).findings[0].hint).toBe('before exposing it, sign in once and make that account admin (auth.oidc_group_map = YOUR_ADMIN_GROUP=admins, or mayday users create NAME --admin), or listen on 127.0.0.1 behind a reverse proxy (docs/deployment.md)');
  });

  it('a collector, or a processor, on every interface: /metrics and the health endpoints are public', () => {
    const files = withFile(withFile(BASE, 'collector.ini', (t) => t.replace('host = a\nport = 8101', 'host = 0.0.0.0\nport = 8101')), 'processor-2.ini', (t) => t.replace('host = c\nport = 8112', 'host = ::\nport = 8112'));
    expect(findings(files)).toEqual([
      {
        layer: 'security',
        code: 'open-metrics',
        severity: 'warning',
        file: 'collector.ini',
        line: lineOf(files, 'collector.ini', 'host = 0.0.0.0'),
        message: 'collector listens on every interface (0.0.0.0:8101), as a collector must to take crash reports, so its /metrics, /__heartbeat__ and /__version__ (counters, the health of its storages, queue and database, the version it runs) are public too',
      },
      {
        layer: 'security',
        code: 'open-metrics',
        severity: 'warning',
        file: 'processor-2.ini',
        line: lineOf(files, 'processor-2.ini', 'host = ::'),
        message: 'processor-2 listens on every interface ([::]:8112), where it serves nothing but /metrics, /__heartbeat__ and /__version__ (counters, the health of its storages, queue and database, the version it runs): they are public to anyone who reaches it',
      },
    ]);
    expect(compileDeployment(files).findings[0].hint).toBe('let a load balancer or reverse proxy pass only /submit (and /__lbheartbeat__) from outside, and scrape /metrics from the inside network; or firewall the port to the networks that submit');
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
