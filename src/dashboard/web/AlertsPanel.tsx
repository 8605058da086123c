/**
 * The alerts the scheduler evaluates from `[alerts.rules.NAME]`: firing ones first (the
 * ones that sent a notice), critical red and warning amber; pending ones (their condition
 * holds, its `for` not yet over) greyed. Nothing at all when no alert is firing or pending:
 * the problems panel above already says "all clear".
 */

import { formatClock, formatDuration } from './format.js';
import { sortAlerts } from './ops-view.js';
import type { AlertView } from './types.js';

export function AlertsPanel({ alerts, now }: { alerts: readonly AlertView[]; now: number }) {
  if (alerts.length === 0) return null;
  const sorted = sortAlerts(alerts);
  const firing = sorted.filter((a) => a.status === 'firing');
  const critical = firing.some((a) => a.severity === 'critical');
  const pending = sorted.length - firing.length;
  const age = (at: number): string => formatDuration(Math.max(0, (now - at) / 1000));
  return (
    <section class={`card dash-alerts ${firing.length === 0 ? 'quiet' : critical ? 'critical' : 'warning'}`} data-testid="alerts" data-count={sorted.length} data-firing={firing.length}>
      <div class="dash-panel-head">
        <h2>Alerts</h2>
        <span class="muted small">
          {firing.length} firing{pending ? ` · ${pending} pending` : ''} · rules from [alerts.rules.*], evaluated by the scheduler
        </span>
      </div>
      <ul>
        {sorted.map((a) => (
          <li key={a.key} class={`dash-alert ${a.status} ${a.severity}`} data-testid="alert" data-key={a.key} data-status={a.status} data-severity={a.severity}>
            <span class="dash-sev">{a.status === 'pending' ? 'PENDING' : a.severity.toUpperCase()}</span>
            <span class="dash-alert-what">
              <span class="dash-alert-rule">{a.rule}</span>
              <span class="muted"> · {a.subject}</span>
            </span>
            <span class="dash-alert-message">{a.message}</span>
            <span class="dash-alert-when small" title={new Date(a.firedAt ?? a.since).toISOString()}>
              {a.status === 'firing' ? `firing for ${age(a.firedAt ?? a.since)} (since ${formatClock(a.firedAt ?? a.since)})` : `pending since ${formatClock(a.since)} (${age(a.since)})`}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
