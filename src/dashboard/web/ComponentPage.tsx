/**
 * `/dashboard/component/NAME`: one component's figures (live), its history charts, its
 * configuration, and, once it is down, the button that removes it from the list.
 */

import { useState } from 'preact/hooks';
import { formatAgo, formatDuration, formatValue } from './format.js';
import { RANGES, STEP_MS, type RangeId } from './history-data.js';
import { useHistory } from './history.js';
import { HistoryChart } from './HistoryChart.js';
import { csrfToken } from './hooks.js';
import { LiveIndicator } from './LiveIndicator.js';
import { useOverview } from './live.js';
import { CHARTS, KNOWN_KEYS, REJECTED_BY_REASON, SECTIONS, hasRole } from './stats.js';
import { RoleBadges, StatusBadge } from './Status.js';
import type { ComponentView, Problem } from './types.js';

export function ComponentPage({ name }: { name: string }) {
  const live = useOverview();
  const { overview } = live;
  // A name may run on several hosts: the one heard from last is shown, the others linked.
  const matches = (overview?.components ?? []).filter((c) => c.name === name).sort((a, b) => b.lastSeen - a.lastSeen);
  const component = matches[0];
  return (
    <div class="dash" data-testid="component-page">
      <div class="dash-head">
        <a href="/dashboard" class="dash-back">
          ← Dashboard
        </a>
        <h1>
          {name} {component && <StatusBadge status={component.status} />}
        </h1>
        <LiveIndicator live={live} />
      </div>
      {!overview ? (
        <div class="card muted">Waiting for the first figures from the node…</div>
      ) : !component ? (
        <div class="card" data-testid="component-missing">
          No component named <strong>{name}</strong> is registered: it may have been removed. <a href="/dashboard">Back to the Dashboard</a>.
        </div>
      ) : (
        <div class={`dash-body ${live.state.kind === 'broken' ? 'dash-frozen' : ''}`}>
          {matches.length > 1 && <div class="card muted">{matches.length} components are named {name} (on {matches.map((m) => m.host).join(', ')}); this page shows the one heard from last, on {component.host}.</div>}
          <ComponentProblems problems={overview.problems.filter((p) => p.subject === name)} />
          {component.status === 'down' && <RemoveCard component={component} />}
          <div class="dash-detail">
            <Summary component={component} />
            <Figures component={component} />
          </div>
          <HistoryPanel component={component} />
        </div>
      )}
    </div>
  );
}

function ComponentProblems({ problems }: { problems: readonly Problem[] }) {
  if (problems.length === 0) return null;
  return (
    <section class={`dash-problems ${problems.some((p) => p.severity === 'critical') ? 'critical' : 'warning'}`} data-testid="problems" data-count={problems.length}>
      <ul>
        {problems.map((p) => (
          <li key={p.kind} class={p.severity} data-kind={p.kind}>
            <span class="dash-sev">{p.severity === 'critical' ? 'CRITICAL' : 'WARNING'}</span>
            <span>{p.message}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Summary({ component }: { component: ComponentView }) {
  return (
    <section class="card">
      <h2>Component</h2>
      <table class="kv" data-testid="summary">
        <tbody>
          <tr>
            <th>Status</th>
            <td>
              <StatusBadge status={component.status} />
              <span class="muted"> · last heartbeat {formatAgo(component.silentSeconds)}</span>
            </td>
          </tr>
          <tr>
            <th>Host</th>
            <td>{component.host}</td>
          </tr>
          <tr>
            <th>Roles</th>
            <td>
              <RoleBadges roles={component.roles} />
            </td>
          </tr>
          <tr>
            <th>Up for</th>
            <td>
              {formatDuration(component.uptimeSeconds)} <span class="muted">(started {new Date(component.startedAt).toLocaleString('en-GB')})</span>
            </td>
          </tr>
          <tr>
            <th>Version</th>
            <td>{component.version}</td>
          </tr>
          <tr>
            <th>Process</th>
            <td class="mono">
              pid {component.pid} · {component.id}
            </td>
          </tr>
          <tr>
            <th>Address</th>
            <td class="mono">{component.url}</td>
          </tr>
          <tr>
            <th>Configuration</th>
            <td data-testid="config">
              {component.configHash ? <code title={component.configHash}>{component.configHash.slice(0, 12)}</code> : <span class="muted">not reported</span>}{' '}
              {component.configDiffers ? (
                <span class="badge warn" data-testid="config-differs">
                  differs from its peers'
                </span>
              ) : component.configHash ? (
                <span class="badge ok">same as its peers</span>
              ) : null}
            </td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}

function Figures({ component }: { component: ComponentView }) {
  const down = component.status === 'down';
  const reasons = Object.keys(component.stats)
    .flatMap((key) => {
      const match = REJECTED_BY_REASON.exec(key);
      return match ? [{ key, reason: match[1].replace(/_/g, ' ') }] : [];
    })
    .sort((a, b) => component.stats[b.key] - component.stats[a.key]);
  const others = Object.keys(component.stats)
    .filter((key) => !KNOWN_KEYS.has(key) && !REJECTED_BY_REASON.test(key))
    .sort();
  return (
    <section class="card" data-testid="figures">
      <h2>Figures {down && <span class="muted small">(from its last heartbeat)</span>}</h2>
      <div class="dash-sections">
        {SECTIONS.filter((s) => s.role === undefined || component.roles.includes(s.role)).map((section) => (
          <div key={section.title}>
            <h3>{section.title}</h3>
            <table class="kv dash-kv">
              <tbody>
                {section.stats
                  .filter((def) => hasRole(component.roles, def))
                  .map((def) => {
                    const value = def.key === 'uptime_seconds' ? component.stats[def.key] ?? component.uptimeSeconds : component.stats[def.key];
                    return (
                      <tr key={def.key} data-stat={def.key}>
                        <th>{def.label}</th>
                        <td class={`num ${value === undefined ? 'muted' : ''}`}>{formatValue(value, def.unit)}</td>
                      </tr>
                    );
                  })}
              </tbody>
            </table>
          </div>
        ))}
        {reasons.length > 0 && (
          <div>
            <h3>Rejected by reason (since start)</h3>
            <table class="kv dash-kv">
              <tbody>
                {reasons.map(({ key, reason }) => (
                  <tr key={key} data-stat={key}>
                    <th>{reason}</th>
                    <td class="num">{formatValue(component.stats[key], 'count')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {others.length > 0 && (
          <div>
            <h3>Other counters (since start)</h3>
            <table class="kv dash-kv">
              <tbody>
                {others.map((key) => (
                  <tr key={key}>
                    <th class="mono">{key}</th>
                    <td class="num">{formatValue(component.stats[key], 'count')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}

function HistoryPanel({ component }: { component: ComponentView }) {
  const [range, setRange] = useState<RangeId>('1h');
  const state = useHistory(component.name, range);
  const charts = CHARTS.map((chart) => ({ ...chart, series: chart.series.filter((def) => hasRole(component.roles, def)) })).filter((chart) => chart.series.length > 0);
  return (
    <section class="dash-history" data-testid="history">
      <div class="dash-panel-head">
        <h2>History</h2>
        <div class="dash-ranges" role="group" aria-label="Range">
          {RANGES.map((r) => (
            <button key={r.id} type="button" class={r.id === range ? 'on' : ''} aria-pressed={r.id === range} onClick={() => setRange(r.id)} data-testid={`range-${r.id}`}>
              {r.label}
            </button>
          ))}
        </div>
        {state.kind === 'ready' && <span class="muted small">one point per {state.history.resolution === 'minute' ? 'minute' : '10 minutes'}</span>}
      </div>
      {state.kind === 'loading' && <div class="card muted">Loading the history…</div>}
      {state.kind === 'none' && (
        <div class="card dash-chart-empty muted" data-testid="history-none">
          No history yet: the node keeps a point a minute once its history store runs; the live figures above are current.
        </div>
      )}
      {state.kind === 'error' && <div class="card dash-error">The history could not be read: {state.message}</div>}
      {state.kind === 'ready' && (
        <div class="dash-charts">
          {charts.map((chart) => (
            <HistoryChart key={chart.id} chart={chart} points={state.history.points.filter((p) => p.component === component.name)} stepMs={STEP_MS[state.history.resolution] ?? STEP_MS.minute} from={state.from} to={state.to} />
          ))}
        </div>
      )}
    </section>
  );
}

function RemoveCard({ component }: { component: ComponentView }) {
  const [step, setStep] = useState<'ask' | 'confirm' | 'removing' | { error: string }>('ask');
  const remove = async (): Promise<void> => {
    setStep('removing');
    const token = csrfToken();
    try {
      const response = await fetch(`/api/ops/components/${encodeURIComponent(component.id)}`, { method: 'DELETE', headers: token ? { 'x-csrf-token': token } : {} });
      if (response.status === 204 || response.status === 404) {
        location.assign('/dashboard');
        return;
      }
      const body = (await response.json().catch(() => ({}))) as { error?: string };
      setStep({ error: body.error ?? `the node answered ${response.status}` });
    } catch (error) {
      setStep({ error: error instanceof Error ? error.message : String(error) });
    }
  };
  return (
    <section class="card dash-remove" data-testid="remove-card">
      <p>
        <strong>{component.name}</strong> on {component.host} has sent no heartbeat for {formatDuration(component.silentSeconds)}. A down node stays listed until it comes back or is removed: remove it if it is gone for good.
      </p>
      {step === 'ask' && (
        <button type="button" class="dash-danger" onClick={() => setStep('confirm')} data-testid="remove">
          Remove {component.name}
        </button>
      )}
      {step === 'confirm' && (
        <span class="dash-confirm">
          Remove <strong>{component.name}</strong> ({component.id}) from the list?{' '}
          <button type="button" class="dash-danger" onClick={() => void remove()} data-testid="remove-confirm">
            Yes, remove
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setStep('ask')}>
            Cancel
          </button>
        </span>
      )}
      {step === 'removing' && <span class="muted">Removing…</span>}
      {typeof step === 'object' && (
        <span class="dash-error">
          Not removed: {step.error}.{' '}
          <button type="button" class="secondary" onClick={() => setStep('ask')}>
            Try again
          </button>
        </span>
      )}
    </section>
  );
}
