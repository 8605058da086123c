/**
 * `/dashboard/component/NAME@HOST`: one component's figures (live), its history charts, its
 * configuration, and, once it is down, the button that removes it from the list. A bare
 * NAME (older links) shows the one node of that name, or lists them when several hosts run one.
 */

import { useState } from 'preact/hooks';
import { formatAgo, formatDuration, formatValue } from './format.js';
import { HistoryPanel } from './HistoryPanel.js';
import { csrfToken } from './hooks.js';
import { DetailHead } from './DetailHead.js';
import { useOverview } from './live.js';
import { nameOfKey, resolveNodeRef } from '../../common/node-identity.js';
import { componentHref } from './ComponentsTable.js';
import { isProbeStat } from '../../common/probe-figures.js';
import { CHARTS, KNOWN_KEYS, QUEUE_KEY, REJECTED_BY_REASON, SECTIONS, hasRole, probeRows, uptimeText } from './stats.js';
import { RoleBadges, StatusBadge } from './Status.js';
import { SubjectProblems } from './SubjectProblems.js';
import type { ComponentView } from './types.js';

export function ComponentPage({ name: ref }: { name: string }) {
  const live = useOverview();
  const { overview } = live;
  const components = overview?.components ?? [];
  const match = resolveNodeRef(ref, components.map((c) => c.key));
  const component = match && 'key' in match ? components.find((c) => c.key === match.key) : undefined;
  const namesakes = match && 'ambiguous' in match ? components.filter((c) => match.ambiguous.includes(c.key)) : [];
  const name = component?.name ?? nameOfKey(ref);
  return (
    <div class="dash" data-testid="component-page">
      <DetailHead live={live}>
        {name} {component && <span class="muted">on {component.host}</span>} {component && <StatusBadge status={component.status} />}
      </DetailHead>
      {!overview ? (
        <div class="card muted">Waiting for the first figures from the node…</div>
      ) : namesakes.length > 0 ? (
        <div class="card" data-testid="component-ambiguous">
          {namesakes.length} components are named <strong>{name}</strong>: open one.
          <ul>
            {namesakes.map((c) => (
              <li key={c.key}>
                <a href={componentHref(c.key)}>{c.key}</a> <StatusBadge status={c.status} />
              </li>
            ))}
          </ul>
        </div>
      ) : !component ? (
        <div class="card" data-testid="component-missing">
          No component <strong>{ref}</strong> is registered: it may have been removed. <a href="/dashboard">Back to the Dashboard</a>.
        </div>
      ) : (
        <div class={`dash-body ${live.state.kind === 'broken' ? 'dash-frozen' : ''}`}>
          <SubjectProblems problems={overview.problems.filter((p) => p.subject === component.key || (p.kind === 'duplicate-name' && p.subject === component.name))} />
          {component.status === 'down' && <RemoveCard component={component} />}
          <div class="dash-detail">
            <Summary component={component} />
            <Figures component={component} />
          </div>
          <ComponentHistory component={component} />
        </div>
      )}
    </div>
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
              {uptimeText(component)} <span class="muted">(started {new Date(component.startedAt).toLocaleString('en-GB')})</span>
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
  const probes = probeRows(component.stats);
  const others = Object.keys(component.stats)
    .filter((key) => !KNOWN_KEYS.has(key) && !REJECTED_BY_REASON.test(key) && !isProbeStat(key) && !QUEUE_KEY.test(key))
    .sort();
  return (
    <section class="card" data-testid="figures">
      <h2>Figures {down && <span class="muted small">(from its last heartbeat)</span>}</h2>
      <div class="dash-sections">
        {SECTIONS.filter((s) => (s.role === undefined || component.roles.includes(s.role)) && s.stats.some((def) => def.key === 'uptime_seconds' || component.stats[def.key] !== undefined)).map((section) => (
          <div key={section.title}>
            <h3>{section.title}</h3>
            <table class="kv dash-kv">
              <tbody>
                {section.stats
                  .filter((def) => hasRole(component.roles, def))
                  .map((def) => {
                    if (def.key === 'uptime_seconds') {
                      return (
                        <tr key={def.key} data-stat={def.key}>
                          <th>{def.label}</th>
                          <td class="num">{uptimeText(component)}</td>
                        </tr>
                      );
                    }
                    const value = component.stats[def.key];
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
        {probes.length > 0 && (
          <div data-testid="probes">
            <h3>Dependencies (at its last probe)</h3>
            <table class="kv dash-kv">
              <tbody>
                {probes.map((probe) => (
                  <tr key={probe.name} data-probe={probe.name}>
                    <th>{probe.label}</th>
                    <td class={probe.reachable === false ? 'dash-bad' : ''}>
                      {probe.reachability} <span class="muted">· probe {probe.latency}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {others.length > 0 && (
          <div>
            <h3>Other figures</h3>
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

function ComponentHistory({ component }: { component: ComponentView }) {
  const charts = CHARTS.map((chart) => ({ ...chart, series: chart.series.filter((def) => hasRole(component.roles, def)) })).filter((chart) => chart.series.length > 0);
  return <HistoryPanel component={component.key} charts={charts} none="No history yet: the node keeps a point a minute once its history store runs; the live figures above are current." />;
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
