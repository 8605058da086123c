/**
 * The live topology graph (ELK layout, the same SVG the CLI writes), with problems in red
 * and amber. A click on a node selects its file; a click on an element a finding is about
 * shows that finding's field.
 */

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Finding } from '../deployment.js';
import type { DrawnGraph } from './hooks.js';

interface Props {
  drawn: DrawnGraph | undefined;
  error: string | undefined;
  selectedFile: string | undefined;
  onSelectFile: (file: string) => void;
  onFinding: (finding: Finding) => void;
  /** The graph shown across the whole window (the form and hosts hidden). */
  large: boolean;
  onLarge: (large: boolean) => void;
}

/**
 * The smallest scale the graph is drawn at beside the form: node names (14 px) stay over
 * 11 px. A graph that fits the column at this scale or more is fitted to it; a wider one
 * (ten nodes) is drawn at this scale and scrolls, from its left edge (the hosts and nodes),
 * since scaled into the column it would be too small to read. "Fit width" fits it anyway.
 */
export const READABLE_SCALE = 0.8;

export function GraphView({ drawn, error, selectedFile, onSelectFile, onFinding, large, onLarge }: Props) {
  const [fitAsked, setFitAsked] = useState<boolean | undefined>(undefined);
  const [columnWidth, setColumnWidth] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const measure = (): void => setColumnWidth(box.current?.clientWidth ?? 0);
    measure();
    addEventListener('resize', measure);
    return () => removeEventListener('resize', measure);
  }, [drawn !== undefined, large]);
  const fit = fitAsked ?? (drawn !== undefined && columnWidth > 0 && columnWidth / drawn.width >= READABLE_SCALE);

  // The SVG is a string (shared with the CLI): mark the selected node in the DOM it became.
  useEffect(() => {
    const svg = box.current;
    if (!svg || !drawn) return;
    const selectedNode = drawn.deployment.graph.nodes.find((n) => n.file === selectedFile)?.id;
    for (const el of svg.querySelectorAll<SVGGElement>('g.node')) el.classList.toggle('selected', el.dataset.id === selectedNode);
  }, [drawn, selectedFile]);

  // A new problem off the visible part of a scrolled graph is brought into view, once, by
  // scrolling down only: scrolled sideways to a store on the right, the graph would show
  // lines without the nodes they come from.
  const shownProblems = useRef('');
  useEffect(() => {
    const container = box.current;
    if (!container || !drawn) return;
    const problems = [...container.querySelectorAll<SVGGraphicsElement>('g.resource[class*="problem-"], g.node[class*="problem-"], g.edge-label[class*="problem-"]')];
    const key = problems.map((p) => p.dataset.id).join('|');
    if (key === shownProblems.current) return;
    shownProblems.current = key;
    const first = problems[0];
    if (!first) return;
    const view = container.getBoundingClientRect();
    const at = first.getBoundingClientRect();
    if (at.top < view.top || at.bottom > view.bottom) container.scrollTop += at.top - view.top - Math.max(0, (view.height - at.height) / 2);
  }, [drawn]);

  useEffect(() => {
    if (!large) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onLarge(false);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [large]);

  // Thirty lines cross on a ten-node graph: pointing at a box dims every line but its own,
  // so that what it reads and writes can be followed.
  const onPoint = (event: MouseEvent): void => {
    const container = box.current;
    if (!container) return;
    const id = (event.target as Element | null)?.closest<SVGGElement>('g.node, g.resource')?.dataset.id;
    container.classList.toggle('focusing', id !== undefined);
    const touching = new Set<string>();
    for (const edge of container.querySelectorAll<SVGGElement>('g.edge')) {
      const lit = id !== undefined && (edge.dataset.from === id || edge.dataset.to === id);
      edge.classList.toggle('lit', lit);
      if (lit && edge.dataset.id) touching.add(edge.dataset.id);
    }
    for (const label of container.querySelectorAll<SVGGElement>('g.edge-label')) label.classList.toggle('lit', touching.has(label.dataset.id ?? ''));
  };

  const onClick = (event: MouseEvent): void => {
    if (!drawn) return;
    const element = (event.target as Element | null)?.closest<SVGGElement>('[data-id]');
    const id = element?.dataset.id;
    if (!id) return;
    // The form is hidden while the graph is large: show it again with what was clicked.
    onLarge(false);
    const about = drawn.deployment.findings.filter((f) => f.targets?.includes(id));
    const node = drawn.deployment.graph.nodes.find((n) => n.id === id);
    if (node) {
      // A node's own file first; a finding about it reported in its file points at the field.
      const own = about.find((f) => f.file === node.file);
      if (own) onFinding(own);
      else onSelectFile(node.file);
      return;
    }
    const worst = about.find((f) => f.severity === 'error') ?? about[0];
    if (worst) onFinding(worst);
  };

  return (
    <div class="card cfg-graph" data-testid="graph-panel">
      <div class="cfg-panel-head">
        <h2>Topology</h2>
        <span class="muted small">{drawn ? `${drawn.deployment.graph.nodes.length} nodes, ${drawn.deployment.graph.resources.length} resources` : ''}</span>
        <span class="cfg-spacer" />
        {!large && (
        <label class="small cfg-check">
          <input type="checkbox" checked={fit} onChange={(e) => setFitAsked(e.currentTarget.checked)} data-testid="graph-fit" />
          fit width
        </label>
        )}
        <button type="button" class="secondary small" onClick={() => onLarge(!large)} data-testid="graph-expand">
          {large ? 'Back to the form' : 'Enlarge'}
        </button>
      </div>
      {error && <div class="cfg-error">The graph could not be laid out: {error}</div>}
      {drawn ? (
        <div
          ref={box}
          class={`cfg-svg ${large ? '' : fit ? 'fit' : 'readable'}`}
          style={{ '--cfg-readable-width': `${Math.round(drawn.width * READABLE_SCALE)}px` }}
          data-testid="graph"
          onClick={onClick}
          onMouseOver={onPoint}
          onMouseLeave={onPoint}
          // The SVG comes from our renderer, which escapes every text and attribute it writes.
          dangerouslySetInnerHTML={{ __html: drawn.svg }}
        />
      ) : (
        <div class="muted">Laying out…</div>
      )}
      {drawn && !large && !fit && columnWidth > 0 && drawn.width * READABLE_SCALE > columnWidth && (
        // Said, not only scrollable: the stores on the right are where most problems are drawn.
        <div class="small cfg-graph-more" data-testid="graph-more">
          The graph is wider than this column: scroll sideways, tick “fit width”, or{' '}
          <button type="button" class="link" onClick={() => onLarge(true)}>
            enlarge it
          </button>
          .
        </div>
      )}
      <div class="muted small">Click a node to edit its file; click a red or amber element to see what is wrong.</div>
    </div>
  );
}
