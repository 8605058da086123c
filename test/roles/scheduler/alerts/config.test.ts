import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/load.js';
import { findOption } from '../../../../src/config/schema.js';
// compile.js first: the checks import compile.js (nodeId), which builds the list of checks from them.
import { compileDeployment } from '../../../../src/configurator/compile.js';
import { alertRulesComplete } from '../../../../src/configurator/checks/alert-rules.js';
import { presetFiles } from '../../../../src/configurator/presets.js';
import { alertSettings } from '../../../../src/roles/scheduler/alerts/settings.js';

describe('[alerts] and [dashboard] in the configuration', () => {
  it('have their defaults: no webhooks, json, repeat hourly, evaluate every 10 s, down after 30 s', () => {
    const { config } = loadConfig({});
    expect(config!.alerts).toEqual({ webhook_urls: [], format: 'json', repeat_interval: 3_600_000, evaluate_interval: 10_000, timeout: 10_000, rules: [] });
    expect(config!.dashboard).toEqual({ down_after: 30_000, queue_age_warning: 300_000, queue_growing_minutes: 10, failing_share: 20, failing_min_crashes: 10, failing_window: 600_000 });
    expect(findOption('alerts', 'webhook_urls')!.secret).toBe(true);
  });

  it('reads [alerts.rules.NAME] sections into rules whose node_down threshold follows dashboard.down_after', () => {
    const text = [
      '[dashboard]',
      'down_after = 45s',
      '[alerts]',
      'webhook_urls = https://hooks.slack.com/services/T0/B0/X, http://127.0.0.1:9000/alerts?token=t',
      'format = slack',
      'repeat_interval = 0s',
      '[alerts.rules.processor_down]',
      'kind = node_down',
      'role = processor',
      'severity = critical',
      '[alerts.rules.backlog]',
      'kind = queue_age',
      'threshold = 900',
      'queue = standard, priority',
      'for = 2m',
      '[alerts.rules.failing]',
      'kind = failure_rate',
      'threshold = 25',
      'window = 10m',
      '[alerts.rules.jobs]',
      'kind = job_failed',
    ].join('\n');
    const { config, findings } = loadConfig({ file: { name: 'node.ini', text } });
    expect(findings).toEqual([]);
    const settings = alertSettings(config!.alerts, config!.dashboard, 'https://mayday.example/dashboard');
    expect(settings).toMatchObject({ format: 'slack', repeatIntervalMs: 0, evaluateIntervalMs: 10_000, timeoutMs: 10_000, dashboardUrl: 'https://mayday.example/dashboard' });
    expect(settings.webhookUrls).toHaveLength(2);
    expect(settings.rules).toEqual([
      { name: 'processor_down', kind: 'node_down', forMs: 0, threshold: 45, windowMs: 300_000, nodes: undefined, roles: ['processor'], queues: undefined, jobs: undefined, severity: 'critical' },
      { name: 'backlog', kind: 'queue_age', forMs: 120_000, threshold: 900, windowMs: 300_000, nodes: undefined, roles: undefined, queues: ['standard', 'priority'], jobs: undefined, severity: 'warning' },
      { name: 'failing', kind: 'failure_rate', forMs: 0, threshold: 25, windowMs: 600_000, nodes: undefined, roles: undefined, queues: undefined, jobs: undefined, severity: 'warning' },
      { name: 'jobs', kind: 'job_failed', forMs: 0, threshold: 1, windowMs: 300_000, nodes: undefined, roles: undefined, queues: undefined, jobs: undefined, severity: 'warning' },
    ]);
  });

  it('reports a bad rule or webhook at its line, without repeating the URL', () => {
    const text = ['[alerts]', 'webhook_urls = https://ok.example/x, ftp://files.example/secret-token', '[alerts.rules.x]', 'kind = disk_full', '[alerts.rules.y]', 'for = 5m'].join('\n');
    const { config, findings } = loadConfig({ file: { name: 'node.ini', text } });
    expect(config).toBeUndefined();
    const messages = findings.map((f) => `${f.line}: ${f.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([expect.stringMatching(/^2: .*item 2: expected a http or https URL$/), expect.stringMatching(/^4: .*kind: expected one of node_down, queue_age, failure_rate, job_failed/), expect.stringMatching(/kind is required/)]),
    );
    expect(messages.join('\n')).not.toMatch(/secret-token/);
  });

  it('reads the kinds added after an operator missed them at 3 a.m., and heartbeat_url, a secret', () => {
    const text = [
      '[dashboard]',
      'queue_growing_minutes = 15',
      '[alerts]',
      'heartbeat_url = https://hc-ping.com/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9',
      '[alerts.rules.database]',
      'kind = dependency_unreachable',
      'dependency = crash_index, node_registry',
      'for = 1m',
      'severity = critical',
      '[alerts.rules.backlog_growing]',
      'kind = queue_growing',
      'queue = standard',
      '[alerts.rules.processors]',
      'kind = nodes_below',
      'role = processor',
      'threshold = 2',
      'for = 2m',
    ].join('\n');
    const { config, findings } = loadConfig({ file: { name: 'node.ini', text } });
    expect(findings).toEqual([]);
    expect(findOption('alerts', 'heartbeat_url')!.secret).toBe(true);
    const settings = alertSettings(config!.alerts, config!.dashboard);
    expect(settings.heartbeatUrl).toBe('https://hc-ping.com/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9');
    expect(settings.downAfterMs).toBe(30_000);
    expect(settings.rules).toEqual([
      { name: 'database', kind: 'dependency_unreachable', forMs: 60_000, threshold: 1, windowMs: 300_000, nodes: undefined, roles: undefined, queues: undefined, jobs: undefined, dependencies: ['crash_index', 'node_registry'], severity: 'critical' },
      { name: 'backlog_growing', kind: 'queue_growing', forMs: 0, threshold: 15, windowMs: 300_000, nodes: undefined, roles: undefined, queues: ['standard'], jobs: undefined, severity: 'warning' },
      { name: 'processors', kind: 'nodes_below', forMs: 120_000, threshold: 2, windowMs: 300_000, nodes: undefined, roles: ['processor'], queues: undefined, jobs: undefined, severity: 'warning' },
    ]);
    expect(alertSettings(loadConfig({}).config!.alerts, loadConfig({}).config!.dashboard).heartbeatUrl).toBeUndefined();
  });

  it('refuses an unknown role or dependency, and a heartbeat_url that is not http(s), at their lines', () => {
    const text = ['[alerts]', 'heartbeat_url = ftp://monitor.example/ping', '[alerts.rules.fleet]', 'kind = nodes_below', 'role = procesor', '[alerts.rules.deps]', 'kind = dependency_unreachable', 'dependency = postgres'].join('\n');
    const { config, findings } = loadConfig({ file: { name: 'node.ini', text } });
    expect(config).toBeUndefined();
    const messages = findings.map((f) => `${f.line}: ${f.message}`);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/^2: .*heartbeat_url.*expected a http or https URL/), expect.stringMatching(/^5: .*procesor/), expect.stringMatching(/^8: .*postgres/)]));
  });

  it('a nodes_below rule without role: the scheduler refuses it, and the Configurator reports it at its kind line', () => {
    const rule = '[alerts.rules.fleet]\nkind = nodes_below\nthreshold = 2';
    const { config, findings } = loadConfig({ file: { name: 'node.ini', text: rule } });
    expect(findings).toEqual([]);
    expect(() => alertSettings(config!.alerts, config!.dashboard)).toThrow('alert rule fleet: kind nodes_below needs role');

    const files = presetFiles('distributed', ['a', 'b', 'c']).map((f) => (f.name === 'scheduler.ini' ? { ...f, text: `${f.text}\n${rule}\n[alerts.rules.ok]\nkind = nodes_below\nrole = processor\n` } : f));
    const deployment = compileDeployment(files);
    const context = { resources: new Map(), hostLocal: new Set<string>(), at: () => ({ file: 'scheduler.ini', line: 0 }) };
    const found = alertRulesComplete(deployment, context);
    const kindLine = files.find((f) => f.name === 'scheduler.ini')!.text.split('\n').indexOf('[alerts.rules.fleet]') + 2;
    expect(found.map(({ code, severity, file, line, message }) => ({ code, severity, file, line, message }))).toEqual([
      { code: 'alert-rule-needs-role', severity: 'error', file: 'scheduler.ini', line: kindLine, message: 'alert rule "fleet" is nodes_below without a role: it must say whose running nodes it counts, and scheduler would not start with it' },
    ]);
    expect(alertRulesComplete(compileDeployment(presetFiles('distributed', ['a', 'b', 'c'])), context)).toEqual([]);
  });
});
