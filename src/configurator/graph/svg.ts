/**
 * Draws a laid-out deployment graph as one standalone SVG document: attributes only (no
 * stylesheet, no script), so it opens the same in a browser, an image viewer, resvg or a
 * bug report. Every element carries `data-id` (its graph id) and a class (`host`, `node`,
 * `resource`, `edge`) for the web tool to highlight and click.
 *
 * Pure: no DOM, no Node built-ins.
 */

import type { Flow, ResourceKind } from '../deployment.js';
import {
  METRICS,
  badgeWidth,
  fitText,
  hostHeaderWidth,
  resourceCaption,
  textWidth,
  type LaidOutEdge,
  type LaidOutGraph,
  type LaidOutHost,
  type LaidOutNode,
  type LaidOutResource,
  type Point,
  type Problem,
} from './layout.js';

export const FONT_FAMILY = 'DejaVu Sans, Arial, sans-serif';

export const PROBLEM_COLOURS = { error: '#d32f2f', warning: '#e08600' } as const;

/**
 * Edges take the colour of what flows on them, the colour of the store it goes to or comes
 * from: with thirty lines on a page, colour is what lets the eye follow one. Red and amber
 * stay free for problems.
 */
export const FLOW_COLOURS: Record<Flow, string> = {
  'raw crashes': '#0f766e',
  'crash ids': '#7245b8',
  'processed crashes': '#3f7f2a',
  'index rows': '#3d4f73',
  symbols: '#a8346f',
  heartbeats: '#8a96a8',
};

/** The flow an edge is drawn as: the first that is not a heartbeat, which every node sends. */
export function mainFlow(flows: readonly Flow[]): Flow | undefined {
  return flows.find((flow) => flow !== 'heartbeats') ?? flows[0];
}

const EDGE_COLOUR = '#64748b';
const TEXT = '#1e293b';
const MUTED = '#475569';

export const NODE_COLOURS = { fill: '#eef4ff', stroke: '#2f5fb3' } as const;

/** A running node's status, as the Operations Dashboard draws it on the graph. */
export type LiveStatus = 'up' | 'stale' | 'down';

/** Green, amber, red: the same on the graph, in the table and in the legend. */
export const STATUS_COLOURS: Record<LiveStatus, string> = { up: '#1e7b4a', stale: '#c77700', down: '#d32f2f' };

/** One line of live figures in a box; `tone` colours it (a status, or muted for "no data"). */
export interface LiveLine {
  text: string;
  tone?: LiveStatus | 'muted';
}

/**
 * Live figures drawn on the graph, by node or resource id: each box's status and the lines
 * its layout made room for (`LayoutOptions.liveLines`). The Dashboard draws the graph once
 * and then changes these in place, with `statusPaint` and `liveLineColour`.
 */
export interface LiveAnnotations {
  status?: Readonly<Record<string, LiveStatus>>;
  lines?: Readonly<Record<string, readonly LiveLine[]>>;
  /**
   * A figure on an edge, by edge id (the throughput along it), drawn in the room its label
   * kept for it (`LayoutOptions.liveEdges`); `width` thickens the line.
   */
  edges?: Readonly<Record<string, LiveEdgeFigure>>;
}

/** A live figure on an edge: its text (greyed when `muted`, as a figure of zero) and the line's width. */
export interface LiveEdgeFigure {
  text: string;
  tone?: 'muted';
  width?: number;
}

/** The grey of a live edge figure that says nothing is flowing. */
export const LIVE_EDGE_IDLE = '#8a96a8';

/** How a node's box shows its status: a node in trouble is filled and outlined so it reads from across the room. */
export function statusPaint(status: LiveStatus | undefined): { fill: string; stroke: string; strokeWidth: number } {
  if (status === 'down') return { fill: '#fde8e8', stroke: STATUS_COLOURS.down, strokeWidth: 3.5 };
  if (status === 'stale') return { fill: '#fff3dc', stroke: STATUS_COLOURS.stale, strokeWidth: 3.5 };
  return { fill: NODE_COLOURS.fill, stroke: NODE_COLOURS.stroke, strokeWidth: 1.5 };
}

export function liveLineColour(line: LiveLine): string {
  return line.tone === 'muted' ? MUTED : line.tone ? STATUS_COLOURS[line.tone] : TEXT;
}

/** Where the live lines of a box start (the top of the first line's box), and the text width they get. */
export function liveArea(box: { x: number; y: number; width: number; height: number }, lines: number): { x: number; y: number; width: number } {
  const m = METRICS;
  return { x: box.x + m.padX, y: box.y + box.height - m.padY - lines * m.bodyLine, width: box.width - 2 * m.padX };
}

/** Fill, stroke, and the caption's colour (dark enough to read on the fill). */
export const KIND_COLOURS: Record<ResourceKind, { fill: string; stroke: string; text: string; dash?: string }> = {
  'raw-store': { fill: '#e3f5f3', stroke: '#0f766e', text: '#0f5f58' },
  'processed-store': { fill: '#e8f5e2', stroke: '#3f7f2a', text: '#356b23' },
  queue: { fill: '#f1eafb', stroke: '#7245b8', text: '#5f3a9c' },
  database: { fill: '#e9edf5', stroke: '#3d4f73', text: '#34435f' },
  'symbol-store': { fill: '#fbe9f2', stroke: '#a8346f', text: '#8e2c5e' },
  'symbol-upstream': { fill: '#f6f6f4', stroke: '#6b6b63', text: '#55554f', dash: '6 4' },
};

const ROLE_COLOURS: Record<string, string> = {
  collector: '#1d5fc4',
  processor: '#0e6e86',
  web: '#2f7d32',
  scheduler: '#6b3fb0',
};

const HOST_COLOURS = { fill: '#f8fafc', stroke: '#94a3b8', header: '#e2e8f0' } as const;

const MARGIN = 16;
const TITLE_HEIGHT = 34;

/** XML-escapes text and attribute values, and drops the characters XML 1.0 cannot hold at all. */
export function escapeXml(text: string): string {
  return text
    // Control characters and lone surrogates: XML cannot hold them.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Numbers in attributes: short, and never `NaN`, which would make the document invalid SVG. */
function n(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 10) / 10) : '0';
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => `${name}="${typeof value === 'number' ? n(value) : escapeXml(value)}"`)
    .join(' ');
}

function text(x: number, y: number, content: string, style: { size: number; bold?: boolean; fill?: string; anchor?: 'middle' | 'end' }): string {
  return `<text ${attrs({
    x,
    y,
    'font-size': style.size,
    'font-weight': style.bold ? 'bold' : undefined,
    fill: style.fill ?? TEXT,
    'text-anchor': style.anchor,
  })}>${escapeXml(content)}</text>`;
}

function problemStroke(problem: Problem, normal: string): string {
  return problem ? PROBLEM_COLOURS[problem] : normal;
}

/** A round "!" badge centred on (cx, cy). */
function problemMarker(cx: number, cy: number, problem: NonNullable<Problem>): string {
  return (
    `<g class="problem-marker">` +
    `<circle ${attrs({ cx, cy, r: 9, fill: PROBLEM_COLOURS[problem], stroke: '#ffffff', 'stroke-width': 1.5 })}/>` +
    text(cx, cy + 4.5, '!', { size: 13, bold: true, fill: '#ffffff', anchor: 'middle' }) +
    `</g>`
  );
}

function tooltip(lines: string[]): string {
  return `<title>${escapeXml(lines.join('\n'))}</title>`;
}

function renderHost(host: LaidOutHost): string {
  const m = METRICS;
  const stroke = problemStroke(host.problem, HOST_COLOURS.stroke);
  const parts = [
    `<g ${attrs({ class: host.problem ? `host problem-${host.problem}` : 'host', 'data-id': host.id })}>`,
    tooltip([`host ${host.id}`]),
    `<rect ${attrs({ x: host.x, y: host.y, width: host.width, height: host.height, rx: 10, fill: HOST_COLOURS.fill, stroke, 'stroke-width': host.problem ? 3 : 1.5 })}/>`,
    // The header band: a rect with rounded top corners only, drawn as a path.
    `<path ${attrs({
      d: `M${n(host.x + 0.75)},${n(host.y + m.hostHeader)} V${n(host.y + 10)} Q${n(host.x + 0.75)},${n(host.y + 0.75)} ${n(host.x + 10)},${n(host.y + 0.75)} H${n(host.x + host.width - 10)} Q${n(host.x + host.width - 0.75)},${n(host.y + 0.75)} ${n(host.x + host.width - 0.75)},${n(host.y + 10)} V${n(host.y + m.hostHeader)} Z`,
      fill: HOST_COLOURS.header,
    })}/>`,
    `<line ${attrs({ x1: host.x, y1: host.y + m.hostHeader, x2: host.x + host.width, y2: host.y + m.hostHeader, stroke, 'stroke-width': 1 })}/>`,
    text(host.x + m.hostPad, host.y + 20, 'host', { size: m.smallSize, fill: MUTED }),
    text(host.x + m.hostPad + textWidth('host', m.smallSize) + 8, host.y + 20, host.id, { size: m.titleSize, bold: true }),
  ];
  if (host.problem) parts.push(problemMarker(host.x + Math.max(host.width, hostHeaderWidth(host.id)) - 14, host.y + 15, host.problem));
  parts.push('</g>');
  return parts.join('');
}

/**
 * The reserved lines of a box: a rule, then one text element per line (`data-line`), kept
 * even when empty so that the Dashboard can fill them in place.
 */
function renderLiveLines(box: { x: number; y: number; width: number; height: number; liveLines?: number }, lines: readonly LiveLine[] | undefined, rule: string): string {
  const count = box.liveLines ?? 0;
  if (count === 0) return '';
  const m = METRICS;
  const area = liveArea(box, count);
  const parts = [`<line ${attrs({ class: 'live-rule', x1: area.x, y1: area.y - m.liveGap / 2, x2: area.x + area.width, y2: area.y - m.liveGap / 2, stroke: rule, 'stroke-opacity': 0.35 })}/>`];
  for (let i = 0; i < count; i++) {
    const line = lines?.[i] ?? { text: '' };
    parts.push(
      `<text ${attrs({ class: 'live', 'data-line': i, x: area.x, y: area.y + i * m.bodyLine + 13, 'font-size': m.bodySize, 'font-weight': line.tone && line.tone !== 'muted' ? 'bold' : undefined, fill: liveLineColour(line) })}>` +
        `${escapeXml(fitText(line.text, m.bodySize, area.width))}</text>`,
    );
  }
  return parts.join('');
}

function renderNode(node: LaidOutNode, live: LiveAnnotations): string {
  const m = METRICS;
  const status = live.status?.[node.id];
  const paint = statusPaint(status);
  // A live status outranks a configuration finding: the Dashboard draws no findings, the Configurator no status.
  const stroke = status && status !== 'up' ? paint.stroke : problemStroke(node.problem, NODE_COLOURS.stroke);
  const left = node.x + m.padX;
  let y = node.y + m.padY;
  const classes = ['node', node.problem ? `problem-${node.problem}` : '', status ? `status-${status}` : ''].filter(Boolean).join(' ');
  const parts = [
    `<g ${attrs({ class: classes, 'data-id': node.id })}>`,
    tooltip([`node ${node.name}`, `roles: ${node.roles.join(', ')}`, `listens on ${node.listen}`, `file: ${node.file}`]),
    `<rect ${attrs({ x: node.x, y: node.y, width: node.width, height: node.height, rx: 6, fill: paint.fill, stroke, 'stroke-width': node.problem && (!status || status === 'up') ? 3 : paint.strokeWidth })}/>`,
    text(left, y + 14, node.name, { size: m.titleSize, bold: true }),
  ];
  y += m.titleLine + m.rowGap;
  let x = left;
  for (const role of node.roles) {
    const width = badgeWidth(role);
    parts.push(
      `<g ${attrs({ class: 'role', 'data-role': role })}>` +
        `<rect ${attrs({ x, y, width, height: m.badgeHeight, rx: 9, fill: ROLE_COLOURS[role] ?? MUTED })}/>` +
        text(x + width / 2, y + 13.5, role, { size: m.smallSize, bold: true, fill: '#ffffff', anchor: 'middle' }) +
        `</g>`,
    );
    x += width + m.badgeGap;
  }
  y += m.badgeHeight + m.rowGap;
  parts.push(text(left, y + 13, node.listen, { size: m.bodySize, fill: MUTED }));
  parts.push(renderLiveLines(node, live.lines?.[node.id], NODE_COLOURS.stroke));
  if (node.problem) parts.push(problemMarker(node.x + node.width - 2, node.y + 2, node.problem));
  parts.push('</g>');
  return parts.join('');
}

function renderResource(resource: LaidOutResource, live: LiveAnnotations): string {
  const m = METRICS;
  const colours = KIND_COLOURS[resource.kind];
  const stroke = problemStroke(resource.problem, colours.stroke);
  const left = resource.x + m.padX;
  let y = resource.y + m.padY;
  const parts = [
    `<g ${attrs({ class: resource.problem ? `resource problem-${resource.problem}` : 'resource', 'data-id': resource.id, 'data-kind': resource.kind })}>`,
    tooltip([`${resourceCaption(resource)}: ${resource.label}`, resource.detail]),
    `<rect ${attrs({
      x: resource.x,
      y: resource.y,
      width: resource.width,
      height: resource.height,
      rx: resource.kind === 'queue' ? 2 : 10,
      fill: colours.fill,
      stroke,
      'stroke-width': resource.problem ? 3 : 1.5,
      'stroke-dasharray': colours.dash,
    })}/>`,
    // A band down the left edge in the kind's colour: the kind reads at a glance even where
    // the fills look alike.
    `<rect ${attrs({ x: resource.x + 1.5, y: resource.y + 6, width: 4, height: resource.height - 12, rx: 2, fill: colours.stroke })}/>`,
    text(left, y + 12, resourceCaption(resource), { size: m.smallSize, fill: colours.text }),
  ];
  y += m.smallLine + m.rowGap / 2;
  parts.push(text(left, y + 14, resource.label, { size: m.titleSize, bold: true }));
  y += m.titleLine + m.rowGap / 2;
  parts.push(text(left, y + 13, resource.detailShown, { size: m.bodySize, fill: MUTED }));
  parts.push(renderLiveLines(resource, live.lines?.[resource.id], colours.stroke));
  if (resource.problem) parts.push(problemMarker(resource.x + resource.width - 2, resource.y + 2, resource.problem));
  parts.push('</g>');
  return parts.join('');
}

function pathOf(points: Point[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(p.x)},${n(p.y)}`).join(' ');
}

function edgeColour(edge: LaidOutEdge): string {
  if (edge.problem) return PROBLEM_COLOURS[edge.problem];
  const flow = mainFlow(edge.flows);
  return flow ? FLOW_COLOURS[flow] : EDGE_COLOUR;
}

/** One arrow head per colour: SVG 1.1 markers cannot take the colour of the line they end. */
const MARKER_COLOURS: { id: string; colour: string; size: number }[] = [
  { id: 'arrow', colour: EDGE_COLOUR, size: 10 },
  ...(Object.entries(FLOW_COLOURS) as [Flow, string][]).map(([flow, colour]) => ({ id: `arrow-${flow.replace(/ /g, '-')}`, colour, size: 10 })),
  { id: 'arrow-error', colour: PROBLEM_COLOURS.error, size: 13 },
  { id: 'arrow-warning', colour: PROBLEM_COLOURS.warning, size: 13 },
];

function markerId(edge: LaidOutEdge): string {
  if (edge.problem) return `arrow-${edge.problem}`;
  const flow = mainFlow(edge.flows);
  return flow ? `arrow-${flow.replace(/ /g, '-')}` : 'arrow';
}

/** The width an edge is drawn with: thicker with a problem, or as its live figure says. */
export function edgeStrokeWidth(edge: LaidOutEdge, figure: LiveEdgeFigure | undefined): number {
  if (edge.problem) return 3;
  return figure?.width ?? 1.5;
}

/** The colour of an edge's live figure: its line's, or grey when it is muted (nothing flows). */
export function liveEdgeColour(edge: LaidOutEdge, figure: LiveEdgeFigure | undefined): string {
  return figure?.tone === 'muted' ? LIVE_EDGE_IDLE : edgeColour(edge);
}

function renderEdgeLine(edge: LaidOutEdge, live: LiveAnnotations): string {
  if (edge.points.length < 2) return '';
  const colour = edgeColour(edge);
  const onlyHeartbeats = edge.flows.length > 0 && edge.flows.every((flow) => flow === 'heartbeats');
  return (
    `<g ${attrs({ class: edge.problem ? `edge problem-${edge.problem}` : 'edge', 'data-id': edge.id, 'data-from': edge.from, 'data-to': edge.to })}>` +
    tooltip([`${edge.from} → ${edge.to}`, edge.flows.join(', ')]) +
    `<path ${attrs({
      d: pathOf(edge.points),
      fill: 'none',
      stroke: colour,
      'stroke-width': edgeStrokeWidth(edge, live.edges?.[edge.id]),
      'stroke-dasharray': onlyHeartbeats && !edge.problem ? '5 4' : undefined,
      'stroke-linejoin': 'round',
      'marker-end': `url(#${markerId(edge)})`,
    })}/>` +
    `</g>`
  );
}

/**
 * Labels go in a layer above every line and box, so that a line routed later never crosses
 * one; the white plate keeps them readable where they sit on a line.
 */
function renderEdgeLabel(edge: LaidOutEdge, live: LiveAnnotations): string {
  const label = edge.label;
  if (!label || (!label.text && !label.live)) return '';
  const m = METRICS;
  const colour = edgeColour(edge);
  const figure = live.edges?.[edge.id];
  const parts = [
    `<g ${attrs({
      class: edge.problem ? `edge-label problem-${edge.problem}` : 'edge-label',
      'data-id': edge.id,
      // A label that holds only a figure is hidden while there is no figure to show.
      visibility: !label.text && !figure?.text ? 'hidden' : undefined,
    })}>`,
    `<rect ${attrs({
      x: label.x,
      y: label.y,
      width: label.width,
      height: label.height,
      rx: 4,
      fill: '#ffffff',
      'fill-opacity': 0.92,
      stroke: edge.problem ? colour : undefined,
      'stroke-width': edge.problem ? 1.2 : undefined,
    })}/>`,
    label.text ? text(label.x + m.labelPadX, label.y + m.labelPadY + 13, label.text, { size: m.bodySize, fill: colour }) : '',
  ];
  if (label.live) parts.push(renderEdgeFigure(edge, label.live, !!label.text, figure));
  if (edge.problem) parts.push(problemMarker(label.x + label.width + 2, label.y + label.height / 2, edge.problem));
  parts.push('</g>');
  return parts.join('');
}

/**
 * The live figure of an edge, right-aligned in the room its label kept, after a thin rule
 * when the label also names the flows; the element stays when empty, to be filled in place.
 */
function renderEdgeFigure(edge: LaidOutEdge, slot: { x: number; y: number; width: number; height: number }, afterText: boolean, figure: LiveEdgeFigure | undefined): string {
  const m = METRICS;
  const colour = edgeColour(edge);
  const rule = afterText
    ? `<line ${attrs({ class: 'edge-rate-rule', x1: slot.x - m.liveEdgeGap / 2, y1: slot.y + 4, x2: slot.x - m.liveEdgeGap / 2, y2: slot.y + slot.height - 4, stroke: colour, 'stroke-opacity': 0.35 })}/>`
    : '';
  return (
    rule +
    `<text ${attrs({
      class: 'edge-rate',
      'data-id': edge.id,
      x: slot.x + slot.width,
      y: slot.y + m.labelPadY + 13,
      'font-size': m.bodySize,
      'font-weight': 'bold',
      'text-anchor': 'end',
      fill: liveEdgeColour(edge, figure),
    })}>${escapeXml(fitText(figure?.text ?? '', m.bodySize, slot.width))}</text>`
  );
}

function markers(): string {
  const marker = (id: string, colour: string, size: number): string =>
    `<marker ${attrs({ id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: size, markerHeight: size, markerUnits: 'userSpaceOnUse', orient: 'auto' })}>` +
    `<path ${attrs({ d: 'M0,0 L10,5 L0,10 Z', fill: colour })}/>` +
    `</marker>`;
  return `<defs>${MARKER_COLOURS.map((m) => marker(m.id, m.colour, m.size)).join('')}</defs>`;
}

interface LegendItem {
  label: string;
  swatch: (x: number, y: number) => string;
}

function legendItems(laid: LaidOutGraph, live: LiveAnnotations): LegendItem[] {
  const box =
    (fill: string, stroke: string, dash?: string) =>
    (x: number, y: number): string =>
      `<rect ${attrs({ x, y: y - 11, width: 22, height: 14, rx: 3, fill, stroke, 'stroke-width': 1.5, 'stroke-dasharray': dash })}/>`;
  const line =
    (colour: string, width: number, dash?: string) =>
    (x: number, y: number): string =>
      `<line ${attrs({ x1: x, y1: y - 4, x2: x + 22, y2: y - 4, stroke: colour, 'stroke-width': width, 'stroke-dasharray': dash })}/>`;
  const items: LegendItem[] = [{ label: 'node', swatch: box(NODE_COLOURS.fill, NODE_COLOURS.stroke) }];
  // Only the kinds this drawing has: a legend of things not on the page is noise.
  const kinds = (Object.keys(KIND_COLOURS) as ResourceKind[]).filter((kind) => laid.resources.some((r) => r.kind === kind));
  for (const kind of kinds) {
    const c = KIND_COLOURS[kind];
    items.push({ label: resourceCaption({ kind, backend: '' }).replace(/ · $/, ''), swatch: box(c.fill, c.stroke, c.dash) });
  }
  const flows = (Object.keys(FLOW_COLOURS) as Flow[]).filter((flow) => laid.edges.some((e) => mainFlow(e.flows) === flow));
  for (const flow of flows) items.push({ label: flow, swatch: line(FLOW_COLOURS[flow], 2, flow === 'heartbeats' ? '5 4' : undefined) });
  if (live.status) {
    // The statuses replace the Configurator's error and warning (the Dashboard draws no
    // findings), next to the plain node, which is how a node that is up looks.
    items[0] = { label: 'node up', swatch: box(NODE_COLOURS.fill, NODE_COLOURS.stroke) };
    for (const status of ['stale', 'down'] as const) {
      const paint = statusPaint(status);
      items.splice(status === 'stale' ? 1 : 2, 0, { label: `node ${status}`, swatch: box(paint.fill, paint.stroke) });
    }
    return items;
  }
  items.push({ label: 'error', swatch: line(PROBLEM_COLOURS.error, 3) });
  items.push({ label: 'warning', swatch: line(PROBLEM_COLOURS.warning, 3) });
  return items;
}

/** Lays the legend out in rows no wider than `width`; returns its markup and height. */
function legend(laid: LaidOutGraph, live: LiveAnnotations, x0: number, y0: number, width: number): { svg: string; height: number } {
  const size = METRICS.bodySize;
  const rowHeight = 22;
  const parts: string[] = [];
  let x = x0;
  let y = y0 + 16;
  for (const item of legendItems(laid, live)) {
    const itemWidth = 22 + 6 + textWidth(item.label, size) + 18;
    if (x > x0 && x + itemWidth > x0 + width) {
      x = x0;
      y += rowHeight;
    }
    parts.push(item.swatch(x, y) + text(x + 28, y, item.label, { size, fill: TEXT }));
    x += itemWidth;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: y - y0 + 10 };
}

export function renderSvg(laid: LaidOutGraph, options: { title?: string; live?: LiveAnnotations } = {}): string {
  const live = options.live ?? {};
  const graphWidth = Math.max(laid.width, 320);
  const top = options.title ? TITLE_HEIGHT : 0;
  const legendBlock = legend(laid, live, MARGIN + 4, MARGIN + top + laid.height + 4, graphWidth - 8);
  const width = Math.ceil(graphWidth + 2 * MARGIN);
  const height = Math.ceil(MARGIN + top + laid.height + 4 + legendBlock.height + MARGIN);
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg ${attrs({
      xmlns: 'http://www.w3.org/2000/svg',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      'font-family': FONT_FAMILY,
      'font-size': METRICS.bodySize,
      role: 'img',
      'aria-label': options.title ?? 'Deployment graph',
    })}>`,
    options.title ? `<title>${escapeXml(options.title)}</title>` : '',
    markers(),
    `<rect ${attrs({ x: 0, y: 0, width, height, fill: '#ffffff' })}/>`,
    options.title ? text(MARGIN, MARGIN + 18, options.title, { size: 16, bold: true }) : '',
    `<g ${attrs({ class: 'graph', transform: `translate(${MARGIN},${MARGIN + top})` })}>`,
    `<g class="hosts">${laid.hosts.map(renderHost).join('')}</g>`,
    // Lines under boxes: an edge that ELK routes along a box edge stays behind it.
    `<g class="edges">${laid.edges.map((e) => renderEdgeLine(e, live)).join('')}</g>`,
    `<g class="resources">${laid.resources.map((r) => renderResource(r, live)).join('')}</g>`,
    `<g class="nodes">${laid.nodes.map((n) => renderNode(n, live)).join('')}</g>`,
    `<g class="edge-labels">${laid.edges.map((e) => renderEdgeLabel(e, live)).join('')}</g>`,
    `</g>`,
    legendBlock.svg,
    `</svg>`,
  ];
  return parts.filter((part) => part !== '').join('\n');
}
