/**
 * A detail page's history: the range buttons (1 h, 24 h, 7 d), one chart per definition
 * drawn from one history component (a node's `NAME@HOST`, or `queue:NAME`), and the states
 * before there is anything to draw. Shared by the component and the queue pages.
 */

import { useState } from 'preact/hooks';
import { RANGES, STEP_MS, type RangeId } from './history-data.js';
import { useHistory } from './history.js';
import { HistoryChart } from './HistoryChart.js';
import type { ChartDef } from './stats.js';

export function HistoryPanel({ component, charts, none }: { component: string; charts: readonly ChartDef[]; none: string }) {
  const [range, setRange] = useState<RangeId>('1h');
  const state = useHistory(component, range);
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
          {none}
        </div>
      )}
      {state.kind === 'error' && <div class="card dash-error">The history could not be read: {state.message}</div>}
      {state.kind === 'ready' && (
        <div class="dash-charts">
          {charts.map((chart) => (
            <HistoryChart key={chart.id} chart={chart} points={state.history.points.filter((p) => p.component === component)} stepMs={STEP_MS[state.history.resolution] ?? STEP_MS.minute} from={state.from} to={state.to} />
          ))}
        </div>
      )}
    </section>
  );
}
