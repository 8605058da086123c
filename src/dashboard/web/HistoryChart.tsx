/** One history chart (uPlot): a few series with the same unit, gaps where the node was silent. */

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatValue } from './format.js';
import { chartData } from './history-data.js';
import type { ChartDef } from './stats.js';
import type { HistoryPoint } from './types.js';

/** Distinct from the status colours: no series may read as "down". */
const PALETTE = ['#1f5fbf', '#0e8a7e', '#7245b8', '#b5651d'];
const HEIGHT = 200;
/** Durations are read in whole steps of the clock (5 min, 15 min, 1 h), not at uPlot's decimal ones (8 min 20 s read as "8 min"). */
const DURATION_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800];

export function HistoryChart({ chart, points, stepMs, from, to }: { chart: ChartDef; points: readonly HistoryPoint[]; stepMs: number; from: number; to: number }) {
  const box = useRef<HTMLDivElement>(null);
  const [xs, ...values] = chartData(points, chart.series, stepMs);
  const empty = values.every((series) => series.every((v) => v === null));

  useEffect(() => {
    const el = box.current;
    if (!el || empty) return;
    const data: uPlot.AlignedData = [xs, ...values];
    const options: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: HEIGHT,
      scales: { x: { time: true, min: from / 1000, max: to / 1000 }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: '#5d6778', grid: { stroke: '#eef1f6' } },
        { stroke: '#5d6778', grid: { stroke: '#eef1f6' }, size: 78, values: (_u, ticks) => ticks.map((t) => formatValue(t, chart.unit)), ...(chart.unit === 'seconds' ? { incrs: DURATION_STEPS } : {}) },
      ],
      series: [
        { label: 'time' },
        ...chart.series.map((def, i) => ({
          label: def.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatValue(v, chart.unit)),
        })),
      ],
    };
    const plot = new uPlot(options, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [points, stepMs, from, to, chart, empty]);

  return (
    <div class="card dash-chart" data-testid="chart" data-chart={chart.id}>
      <h3>{chart.title}</h3>
      {empty ? <div class="dash-chart-empty muted">No {chart.title.toLowerCase()} figures in this range.</div> : <div ref={box} class="dash-plot" />}
    </div>
  );
}
