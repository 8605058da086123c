/**
 * Changes the live figures of a drawn topology in place: the text of each reserved line,
 * each node's status colours, and each edge's rate and width, with the renderer's own colour rules (svg.ts), so the graph
 * looks the same as if it had been drawn again, without a new layout or a flicker.
 */

import { METRICS, fitText, type LaidOutGraph } from '../../configurator/graph/layout.js';
import { edgeStrokeWidth, liveArea, liveEdgeColour, liveLineColour, statusPaint, type LiveAnnotations, type LiveStatus } from '../../configurator/graph/svg.js';

const STATUSES: readonly LiveStatus[] = ['up', 'stale', 'down'];

export function applyLive(container: Element, laid: LaidOutGraph, live: LiveAnnotations): void {
  const groups = new Map<string, SVGGElement>();
  for (const g of container.querySelectorAll<SVGGElement>('g.node[data-id], g.resource[data-id]')) groups.set(g.dataset.id ?? '', g);

  for (const box of [...laid.nodes, ...laid.resources]) {
    const g = groups.get(box.id);
    if (!g) continue;
    const lines = live.lines?.[box.id] ?? [];
    const width = liveArea(box, box.liveLines ?? 0).width;
    for (const el of g.querySelectorAll<SVGTextElement>('text.live[data-line]')) {
      const line = lines[Number(el.dataset.line)] ?? { text: '' };
      const text = fitText(line.text, METRICS.bodySize, width);
      if (el.textContent !== text) el.textContent = text;
      el.setAttribute('fill', liveLineColour(line));
      if (line.tone && line.tone !== 'muted') el.setAttribute('font-weight', 'bold');
      else el.removeAttribute('font-weight');
    }
  }

  for (const node of laid.nodes) {
    const g = groups.get(node.id);
    const status = live.status?.[node.id];
    if (!g) continue;
    for (const s of STATUSES) g.classList.toggle(`status-${s}`, s === status);
    const rect = g.querySelector<SVGRectElement>(':scope > rect');
    if (!rect) continue;
    const paint = statusPaint(status);
    rect.setAttribute('fill', paint.fill);
    rect.setAttribute('stroke', paint.stroke);
    rect.setAttribute('stroke-width', String(paint.strokeWidth));
  }

  // Edges: found by data-id through a map, since edge ids hold characters a selector would need escaped.
  const lines = new Map<string, SVGPathElement>();
  for (const g of container.querySelectorAll<SVGGElement>('g.edge[data-id]')) {
    const path = g.querySelector<SVGPathElement>(':scope > path');
    if (path) lines.set(g.dataset.id ?? '', path);
  }
  const labels = new Map<string, SVGGElement>();
  for (const g of container.querySelectorAll<SVGGElement>('g.edge-label[data-id]')) labels.set(g.dataset.id ?? '', g);
  for (const edge of laid.edges) {
    const figure = live.edges?.[edge.id];
    const width = String(edgeStrokeWidth(edge, figure));
    const path = lines.get(edge.id);
    if (path && path.getAttribute('stroke-width') !== width) path.setAttribute('stroke-width', width);
    const slot = edge.label?.live;
    const label = labels.get(edge.id);
    if (!slot || !label) continue;
    const el = label.querySelector<SVGTextElement>('text.edge-rate');
    if (!el) continue;
    const text = fitText(figure?.text ?? '', METRICS.bodySize, slot.width);
    if (el.textContent !== text) el.textContent = text;
    el.setAttribute('fill', liveEdgeColour(edge, figure));
    // A label that holds only the figure is hidden while there is none (as svg.ts draws it).
    if (!edge.label?.text && !text) label.setAttribute('visibility', 'hidden');
    else label.removeAttribute('visibility');
  }
}
