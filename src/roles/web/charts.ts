import { html, type Html } from './html.js';

export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

const PALETTE = ['#1f5fbf', '#c62f3b', '#1e7b4a', '#9a6700', '#6e40c9', '#0b7285'];

export function color(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/** The colour of an "everything else" series. */
export const OTHER_COLOR = '#9aa3b2';

/**
 * A server-rendered SVG line chart with time on the x axis: readable without JavaScript,
 * linkable, and cheap. Values are drawn as lines with a light area under the first one.
 */
export function timeChart(series: Series[], options: { width?: number; height?: number; yLabel?: string; id?: string } = {}): Html {
  const width = options.width ?? 560;
  const height = options.height ?? 180;
  const pad = { left: 44, right: 12, top: 12, bottom: 26 };
  // Loops rather than Math.min(...points): spreading a long array overflows the stack.
  let count = 0;
  let xMin = Infinity;
  let xMax = -Infinity;
  let yTop = 1;
  for (const s of series) {
    for (const p of s.points) {
      count++;
      if (p.x < xMin) xMin = p.x;
      if (p.x > xMax) xMax = p.x;
      if (p.y > yTop) yTop = p.y;
    }
  }
  if (count < 2) return html`<div class="chart-empty muted">Not enough data yet: a point is added every sampling interval.</div>`;
  const yMax = niceCeiling(yTop);
  const sx = (x: number): number => pad.left + ((x - xMin) / Math.max(1, xMax - xMin)) * (width - pad.left - pad.right);
  const sy = (y: number): number => height - pad.bottom - (y / yMax) * (height - pad.top - pad.bottom);
  const path = (points: { x: number; y: number }[]): string => points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
  const first = series[0]?.points ?? [];
  const area = first.length > 1 ? `${path(first)} L${sx(first.at(-1)!.x).toFixed(1)},${sy(0)} L${sx(first[0].x).toFixed(1)},${sy(0)} Z` : '';
  const ticks = [0, yMax / 2, yMax];
  const timeTicks = [xMin, (xMin + xMax) / 2, xMax];
  // Points on UTC midnights are days (a signature's crashes per day): label them as dates, however short the range.
  const daily = xMin % 86_400_000 === 0 && xMax % 86_400_000 === 0;
  return html`<svg class="chart" ${options.id ? html`id="${options.id}"` : ''} viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${series.map((s) => s.name).join(', ')}">
    ${ticks.map((t) => html`<line x1="${pad.left}" x2="${width - pad.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e3e7ee"/><text x="${pad.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="10" fill="#5d6778">${formatNumber(t)}</text>`)}
    ${timeTicks.map((t, i) => html`<text x="${sx(t)}" y="${height - 8}" text-anchor="${i === 0 ? 'start' : i === 2 ? 'end' : 'middle'}" font-size="10" fill="#5d6778">${formatTime(t, daily ? Infinity : xMax - xMin)}</text>`)}
    ${area ? html`<path d="${area}" fill="${series[0].color}" opacity="0.08"/>` : ''}
    ${series.map((s) => html`<path d="${path(s.points)}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`)}
  </svg>
  <div class="legend">${series.map((s) => html`<span><i style="background:${s.color}"></i>${s.name}</span>`)}</div>`;
}

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function formatNumber(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function formatTime(ms: number, span: number): string {
  const iso = new Date(ms).toISOString();
  return span > 2 * 86_400_000 ? iso.slice(5, 10) : iso.slice(11, 16);
}

export interface Bar {
  label: string;
  count: number;
  /** Where the bar leads (a search narrowed to this value), if anywhere. */
  href?: string;
}

/**
 * Horizontal bars for counts per value (facets, aggregations): plain HTML with widths in
 * percent of the largest count, so they stay sharp at any size and each label can be a
 * link. `total` turns counts into shares shown beside them. The table's columns are
 * fixed (`table-layout: fixed`), so a long term (a module path, a signature) is cut with
 * an ellipsis inside its card, never widening it; the whole term is its `title`.
 */
export function barList(bars: readonly Bar[], options: { total?: number; id?: string } = {}): Html {
  if (bars.length === 0) return html`<div class="muted chart-empty">None.</div>`;
  const max = bars.reduce((top, b) => Math.max(top, b.count), 1);
  return html`<table class="bars" ${options.id ? html`id="${options.id}"` : ''}><colgroup><col class="bar-label-col"><col class="bar-cell-col"><col class="bar-num-col">${
    options.total ? html`<col class="bar-num-col">` : ''
  }</colgroup><tbody>${bars.map(
    (b) => html`<tr><td class="bar-label" title="${b.label}">${b.href ? html`<a href="${b.href}">${b.label}</a>` : b.label}</td>
      <td class="bar-cell"><span class="bar" style="width:${((b.count / max) * 100).toFixed(1)}%"></span></td>
      <td class="num">${b.count}</td>${options.total ? html`<td class="num muted">${((b.count / options.total) * 100).toFixed(1)}%</td>` : ''}</tr>`,
  )}</tbody></table>`;
}
