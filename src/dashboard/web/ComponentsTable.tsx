/** Every component, one row each, with the figures an operator scans for: status first. */

import { formatAgo, formatFigure, formatValue } from './format.js';
import { TABLE_COLUMNS, hasRole, uptimeText, type StatDef } from './stats.js';
import { RoleBadges, StatusBadge } from './Status.js';
import type { ComponentView } from './types.js';

/** A component's detail page, by its key (`name@host`, common/node-identity.ts). */
export function componentHref(key: string): string {
  return `/dashboard/component/${encodeURIComponent(key)}`;
}

/**
 * The figures of a cell that lists one per role: `12 accepted/s` over `11 processed/s`.
 * With `onlyNonZero` (errors), zeros are left out and a cell of zeros reads "none".
 */
function Figures({ component, defs, onlyNonZero }: { component: ComponentView; defs: readonly StatDef[]; onlyNonZero?: boolean }) {
  let mine = defs.filter((def) => hasRole(component.roles, def));
  if (onlyNonZero && component.status !== 'down') {
    mine = mine.filter((def) => component.stats[def.key] !== 0);
    if (mine.length === 0) return <span class="dash-none">none</span>;
  }
  if (mine.length === 0) return <span class="muted">–</span>;
  return (
    <span class="dash-figures">
      {mine.map((def) => {
        const value = component.status === 'down' ? undefined : component.stats[def.key];
        const bad = def.bad === true && value !== undefined && value > 0;
        return (
          <span key={def.key} class={value === undefined ? 'muted' : bad ? 'dash-bad' : ''} data-stat={def.key}>
            {formatFigure(value, def.unit, def.short ?? def.label)}
          </span>
        );
      })}
    </span>
  );
}

function Stat({ component, def }: { component: ComponentView; def: StatDef }) {
  const value = component.status === 'down' ? undefined : component.stats[def.key];
  return (
    <td class={`num ${value === undefined ? 'muted' : ''}`} data-stat={def.key}>
      {formatValue(value, def.unit)}
    </td>
  );
}

export function ComponentsTable({ components }: { components: readonly ComponentView[] }) {
  const c = TABLE_COLUMNS;
  return (
    <section class="card dash-components">
      <div class="dash-panel-head">
        <h2>Components</h2>
        <span class="muted small">{components.length === 0 ? '' : summary(components)}</span>
      </div>
      {components.length === 0 ? (
        <div class="empty">No node has reported yet.</div>
      ) : (
        <div class="dash-scroll">
          <table class="dash-table" data-testid="components">
            <thead>
              <tr>
                <th>Status</th>
                <th>Name</th>
                <th>Host</th>
                <th>Roles</th>
                <th class="num">Uptime</th>
                <th class="num" title="Host load average over 1 minute">Load</th>
                <th class="num" title="CPU used by the node's process (100 % = one core)">CPU</th>
                <th class="num" title="Resident memory of the node's process">Memory</th>
                <th>Throughput</th>
                <th>Errors</th>
                <th class="num">Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {components.map((component) => (
                <tr key={component.id} class={`dash-row st-${component.status}`} data-testid="component" data-name={component.name} data-status={component.status}>
                  <td>
                    <StatusBadge status={component.status} />
                  </td>
                  <td>
                    <a href={componentHref(component.key)} class="dash-name">
                      {component.name}
                    </a>
                    {component.configDiffers && (
                      <span class="badge warn" title="Its configuration differs from its peers'">
                        config differs
                      </span>
                    )}
                  </td>
                  <td>{component.host}</td>
                  <td>
                    <RoleBadges roles={component.roles} />
                  </td>
                  <td class="num">{uptimeText(component)}</td>
                  <Stat component={component} def={c.load} />
                  <Stat component={component} def={c.cpu} />
                  <Stat component={component} def={c.memory} />
                  <td data-testid="throughput">
                    <Figures component={component} defs={c.throughput} />
                  </td>
                  <td data-testid="errors">
                    <Figures component={component} defs={c.errors} onlyNonZero />
                  </td>
                  <td class={`num ${component.status !== 'up' ? `dash-text-${component.status}` : ''}`} data-testid="last-seen">
                    {formatAgo(component.silentSeconds)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function summary(components: readonly ComponentView[]): string {
  const count = (status: string): number => components.filter((c) => c.status === status).length;
  return [`${count('up')} up`, `${count('stale')} stale`, `${count('down')} down`].join(' · ');
}
