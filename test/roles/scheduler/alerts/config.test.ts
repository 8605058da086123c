import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/load.js';
import { findOption } from '../../../../src/config/schema.js';
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
});
