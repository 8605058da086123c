/**
 * "Storages and services": the database, the queue and the stores as the running nodes'
 * probes find them at every heartbeat. Red when any node cannot reach one (with the names
 * of those nodes): the node is up, but what it needs is not.
 */

import { formatMs } from './format.js';
import { dependencyLabel, reachSummary, sortDependencies } from './ops-view.js';
import type { DependencyView } from './types.js';

export function DependenciesCard({ dependencies }: { dependencies: readonly DependencyView[] }) {
  const sorted = sortDependencies(dependencies);
  const unreachable = sorted.filter((d) => d.unreachableFrom.length > 0).length;
  return (
    <section class="card dash-deps">
      <div class="dash-panel-head">
        <h2>Storages and services</h2>
        {sorted.length > 0 ? <span class={`small ${unreachable ? 'dash-bad' : 'muted'}`}>{unreachable ? `${unreachable} unreachable` : `all ${sorted.length} reachable`}</span> : null}
      </div>
      {sorted.length === 0 ? (
        <div class="muted" data-testid="dependencies" data-count="0">
          No running node reports its probes yet.
        </div>
      ) : (
        <table class="dash-table" data-testid="dependencies" data-count={sorted.length}>
          <thead>
            <tr>
              <th title="Each node probes what it uses at every heartbeat">Dependency</th>
              <th class="num" title="Median of the nodes' last probe times">Latency</th>
              <th class="num" title="Nodes whose last probe reached it">Reached by</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((d) => {
              const ok = d.unreachableFrom.length === 0;
              return (
                <tr key={d.name} class={`dash-row ${ok ? 'st-up' : 'st-down'}`} data-testid="dependency" data-name={d.name} data-reachable={String(ok)}>
                  <td>
                    <span class={`dash-status st-${ok ? 'up' : 'down'} dash-dep-name`} title={d.name}>
                      <i class="dash-dot" aria-hidden="true" />
                      <span>{dependencyLabel(d.name)}</span>
                    </span>
                    {ok ? null : (
                      <div class="dash-bad small" data-testid="unreachable-from">
                        unreachable from {d.unreachableFrom.join(', ')}
                      </div>
                    )}
                  </td>
                  <td class={`num ${d.latencyMs === null ? 'muted' : ''}`} data-testid="latency">
                    {d.latencyMs === null ? '–' : formatMs(d.latencyMs)}
                  </td>
                  <td class={`num ${ok ? '' : 'dash-bad'}`} data-testid="reach" title={d.reachableFrom.length ? `reached from ${d.reachableFrom.join(', ')}` : undefined}>
                    {reachSummary(d)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
