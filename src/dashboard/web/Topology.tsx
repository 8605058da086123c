/**
 * The running deployment drawn with the Configurator's code (ELK layout, the same SVG), with
 * live figures on it. Laid out again only when the graph's structure changes (a node joins,
 * leaves or changes roles); on every other update the figures change in place.
 */

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { layoutDeployment, type LaidOutGraph } from '../../configurator/graph/layout.js';
import { renderSvg } from '../../configurator/graph/svg.js';
import { applyLive } from './live-svg.js';
import { liveAnnotations, liveEdgesOf, liveLinesOf, structureKey } from './topology-live.js';
import type { Overview } from './types.js';

interface Drawn {
  key: string;
  laid: LaidOutGraph;
  svg: string;
}

export function Topology({ overview }: { overview: Overview }) {
  const graph = overview.topology;
  const key = useMemo(() => structureKey(graph), [graph]);
  const [drawn, setDrawn] = useState<Drawn | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  // Fitted by default: a panel that needs sideways scrolling hides the right half of the
  // deployment, where the storages are; an operator can ask for full size to read small labels.
  const [fit, setFit] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  // The overview the layout started from may be old when it ends: the newest is drawn on it.
  const latest = useRef(overview);
  latest.current = overview;

  useEffect(() => {
    let current = true;
    layoutDeployment(graph, [], { liveLines: liveLinesOf(graph), liveEdges: liveEdgesOf(graph) })
      .then((laid) => {
        if (!current) return;
        const now = latest.current;
        const svg = renderSvg(laid, { live: liveAnnotations(now.topology, now.components, now.queues, now.edgeRates) }).replace(/^<\?xml[^>]*>\s*/, '');
        setDrawn({ key, laid, svg });
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (current) setError(e instanceof Error ? e.message : String(e));
      });
    return () => {
      current = false;
    };
    // The graph object is new on every update; only its structure matters here.
  }, [key]);

  useEffect(() => {
    if (!drawn || !box.current) return;
    applyLive(box.current, drawn.laid, liveAnnotations(overview.topology, overview.components, overview.queues, overview.edgeRates));
  }, [overview, drawn]);

  const empty = graph.nodes.length === 0;
  return (
    <section class="card dash-topology" data-testid="topology-panel">
      <div class="dash-panel-head">
        <h2>Topology</h2>
        <span class="muted small">{empty ? '' : `${graph.nodes.length} ${graph.nodes.length === 1 ? 'node' : 'nodes'}, ${graph.resources.length} resources · figures update live`}</span>
        <span class="dash-spacer" />
        {!empty && (
          <label class="small dash-check">
            <input type="checkbox" checked={fit} onChange={(e) => setFit(e.currentTarget.checked)} data-testid="topology-fit" />
            fit width
          </label>
        )}
      </div>
      {error && <div class="dash-error">The topology could not be laid out: {error}</div>}
      {empty ? (
        <div class="muted">No node reports its configuration yet: the topology appears with the first heartbeat of a node of this version.</div>
      ) : drawn ? (
        <div
          ref={box}
          class={`dash-svg ${fit ? 'fit' : ''}`}
          data-testid="topology"
          data-layout={drawn.key === key ? 'current' : 'stale'}
          // The SVG comes from our renderer, which escapes every text and attribute it writes.
          dangerouslySetInnerHTML={{ __html: drawn.svg }}
        />
      ) : (
        <div class="muted">Laying out…</div>
      )}
    </section>
  );
}
