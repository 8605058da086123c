/**
 * Lays out a deployment graph with ELK (layered): hosts are boxes holding their nodes and
 * their host-local resources, network resources sit between them, edges are routed and
 * their labels placed by ELK. The result is plain numbers, drawn by `svg.ts`.
 *
 * Pure: no DOM, no Node built-ins (the web tool runs it in the browser). Text is sized from
 * a table of approximate glyph widths of DejaVu Sans, the font the renderers ask for, so the
 * boxes come out the same in Node and in a browser.
 */

// The bundled build runs ELK in this thread (a fake worker) in Node and in a browser bundle
// alike; `elkjs/lib/main.js` would reach for `web-worker`/`worker_threads` in Node.
import ElkModule from 'elkjs/lib/elk.bundled.js';
import type { ELK, ELKConstructorArguments, ElkExtendedEdge, ElkLabel, ElkNode } from 'elkjs/lib/elk-api.js';
import type { Role } from '../../config/schema.js';
import type { DeploymentGraph, Finding, Flow, ResourceKind } from '../deployment.js';

export type Problem = 'error' | 'warning' | undefined;

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutHost extends Box {
  id: string;
  problem: Problem;
}

export interface LaidOutNode extends Box {
  id: string;
  name: string;
  host: string;
  roles: Role[];
  file: string;
  listen: string;
  problem: Problem;
  /** Lines reserved at the bottom of the box for live figures (`LayoutOptions.liveLines`). */
  liveLines?: number;
}

export interface LaidOutResource extends Box {
  id: string;
  kind: ResourceKind;
  label: string;
  /** The full detail (URL, bucket, path). */
  detail: string;
  /** What fits in the box: `detail`, shortened when it is long (`fitDetails`). */
  detailShown: string;
  backend: string;
  host?: string;
  problem: Problem;
  /** Lines reserved at the bottom of the box for live figures (`LayoutOptions.liveLines`). */
  liveLines?: number;
}

export interface LaidOutLabel extends Box {
  /** The flows, or '' on a label that holds only a live figure. */
  text: string;
  /**
   * The room kept at the right end of the label for a live figure (`LayoutOptions.liveEdges`:
   * the Dashboard's throughput), so that the figure can change in place.
   */
  live?: Box;
}

export interface LaidOutEdge {
  id: string;
  from: string;
  to: string;
  flows: Flow[];
  /** The route, first point at `from`, last at `to` (where the arrow head goes). */
  points: Point[];
  label?: LaidOutLabel;
  problem: Problem;
}

/** Every coordinate is absolute, in pixels, with the origin at the top left of the drawing. */
export interface LaidOutGraph {
  width: number;
  height: number;
  hosts: LaidOutHost[];
  nodes: LaidOutNode[];
  resources: LaidOutResource[];
  edges: LaidOutEdge[];
}

/**
 * The text metrics boxes are sized with; `svg.ts` draws with the same numbers so the text
 * lands where the box left room for it.
 */
export const METRICS = {
  padX: 12,
  padY: 10,
  /** Node and resource names, host headers (bold). */
  titleSize: 14,
  titleLine: 18,
  /** Listen addresses, resource details, edge labels. */
  bodySize: 13,
  bodyLine: 17,
  /** The kind caption of a resource and the role badges. */
  smallSize: 12,
  smallLine: 16,
  badgeHeight: 18,
  badgePadX: 6,
  badgeGap: 4,
  rowGap: 4,
  minBoxWidth: 150,
  /** Longer details are shortened so one long URL does not stretch its whole layer. */
  maxDetailWidth: 300,
  hostHeader: 30,
  hostPad: 16,
  labelPadX: 5,
  labelPadY: 2,
  /** A box with live figures is at least this wide, so that numbers that grow do not spill out. */
  liveMinWidth: 210,
  /** The room for a live figure on an edge label ("0.35/s", "999/s", "1.3k/s" in bold), and the space before it. */
  liveEdgeWidth: 48,
  liveEdgeGap: 8,
  /** Space between a box's own text and its live figures (a rule is drawn in it). */
  liveGap: 8,
} as const;

export const KIND_CAPTIONS: Record<ResourceKind, string> = {
  'raw-store': 'raw crash store',
  'processed-store': 'processed crash store',
  queue: 'queue',
  database: 'database',
  'symbol-store': 'symbol store',
  'symbol-upstream': 'upstream symbols',
};

// Approximate advance widths of DejaVu Sans in ems; a character not listed counts as a
// lowercase letter. Measured loosely from the font: good to a few percent on typical names,
// and a little generous, since text that overflows its box reads worse than a wide box.
const NARROW = new Set([...'iljftrI.,:;!|\'()[]{} /\\-']);
const WIDE = new Set([...'mwMW@%']);

/** Approximate width in pixels of `text` set in DejaVu Sans at `size` pixels. */
export function textWidth(text: string, size: number, bold = false): number {
  let ems = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) ems += 0.36;
    else if (WIDE.has(ch)) ems += 0.92;
    else if (ch >= 'A' && ch <= 'Z') ems += 0.72;
    else if (ch >= '0' && ch <= '9') ems += 0.64;
    else if (ch.charCodeAt(0) > 0x2e7f) ems += 1; // CJK and the like are square
    else ems += 0.62;
  }
  return Math.ceil(ems * size * (bold ? 1.1 : 1));
}

/** `text`, shortened in the middle with "…" until it fits `maxWidth` (both ends of a URL say the most). */
export function fitText(text: string, size: number, maxWidth: number): string {
  if (textWidth(text, size) <= maxWidth) return text;
  const chars = [...text];
  let keep = chars.length - 1;
  while (keep > 2) {
    const head = Math.ceil(keep / 2);
    const candidate = `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (keep - head)).join('')}`;
    if (textWidth(candidate, size) <= maxWidth) return candidate;
    keep--;
  }
  return `${chars.slice(0, 2).join('')}…`;
}

/**
 * Shortens each detail to `maxWidth` like `fitText`, but keeps whole the part that tells it
 * from the other details: raw and processed crashes in one bucket differ only in the middle
 * ("…/v1/raw_crash at …" and "…/v1/processed_crash at …"), which a cut in the middle loses.
 * That part is the path segment or word where it first differs from the most similar other
 * detail; the text before it is kept first (the scheme and bucket say where), then the end.
 */
export function fitDetails(details: readonly string[], size: number, maxWidth: number): string[] {
  const fits = (text: string): boolean => textWidth(text, size) <= maxWidth;
  return details.map((detail, index) => {
    if (fits(detail)) return detail;
    const chars = [...detail];
    let differs = 0;
    details.forEach((other, j) => {
      if (j === index || other === detail) return;
      const others = [...other];
      let same = 0;
      while (same < chars.length && chars[same] === others[same]) same++;
      differs = Math.max(differs, same);
    });
    // Nothing shared with another detail (or all of it): both ends say the most.
    if (differs === 0 || differs >= chars.length) return fitText(detail, size, maxWidth);
    const separator = (ch: string | undefined): boolean => ch === '/' || ch === ' ' || ch === ':' || ch === '#';
    let start = differs;
    while (start > 0 && !separator(chars[start - 1])) start--;
    let end = differs;
    while (end < chars.length && !separator(chars[end])) end++;
    if (end === start) return fitText(detail, size, maxWidth);
    const slice = (from: number, to: number): string => chars.slice(from, to).join('');
    const tailOf = (count: number): string => (count > 0 ? slice(chars.length - count, chars.length) : '');
    // Everything up to the distinguishing part, then as much of the end as fits.
    const room = chars.length - end;
    for (let tail = room; tail >= Math.min(room, 5); tail--) {
      const candidate = tail === room ? slice(0, chars.length) : `${slice(0, end)}…${tailOf(tail)}`;
      if (fits(candidate)) return candidate;
    }
    // Else the distinguishing part between a shortened start and end, grown in turn.
    const key = slice(start, end);
    let head = 0;
    let tail = 0;
    let best: string | undefined;
    for (let grown = true; grown; ) {
      grown = false;
      for (const side of ['head', 'tail'] as const) {
        const h = side === 'head' ? head + 1 : head;
        const t = side === 'tail' ? tail + 1 : tail;
        if (h > start || t > room) continue;
        const candidate = `${slice(0, h)}${h < start ? '…' : ''}${key}${t < room ? '…' : ''}${tailOf(t)}`;
        if (!fits(candidate)) continue;
        [head, tail, best, grown] = [h, t, candidate, true];
      }
    }
    return best ?? fitText(detail, size, maxWidth);
  });
}

export function badgeWidth(role: string): number {
  return textWidth(role, METRICS.smallSize, true) + 2 * METRICS.badgePadX;
}

export function nodeSize(node: { name: string; roles: readonly string[]; listen: string }): { width: number; height: number } {
  const m = METRICS;
  const badges = node.roles.reduce((sum, role) => sum + badgeWidth(role), 0) + Math.max(0, node.roles.length - 1) * m.badgeGap;
  const inner = Math.max(textWidth(node.name, m.titleSize, true), badges, textWidth(node.listen, m.bodySize));
  const height = m.padY + m.titleLine + m.rowGap + m.badgeHeight + m.rowGap + m.bodyLine + m.padY;
  return { width: Math.max(m.minBoxWidth, inner + 2 * m.padX), height };
}

export function resourceSize(resource: { kind: ResourceKind; backend: string; label: string; detailShown: string }): { width: number; height: number } {
  const m = METRICS;
  const inner = Math.max(
    textWidth(resourceCaption(resource), m.smallSize),
    textWidth(resource.label, m.titleSize, true),
    textWidth(resource.detailShown, m.bodySize),
  );
  const height = m.padY + m.smallLine + m.rowGap / 2 + m.titleLine + m.rowGap / 2 + m.bodyLine + m.padY;
  return { width: Math.max(m.minBoxWidth, inner + 2 * m.padX), height };
}

export function resourceCaption(resource: { kind: ResourceKind; backend: string }): string {
  return `${KIND_CAPTIONS[resource.kind]} · ${resource.backend}`;
}

export function edgeLabelText(flows: readonly Flow[]): string {
  return flows.join(', ');
}

/** The worst severity among findings naming `id` (an error outranks a warning). */
export function problemsById(findings: readonly Finding[]): Map<string, 'error' | 'warning'> {
  const problems = new Map<string, 'error' | 'warning'>();
  for (const finding of findings) {
    for (const target of finding.targets ?? []) {
      if (problems.get(target) !== 'error') problems.set(target, finding.severity);
    }
  }
  return problems;
}

/**
 * Graph ids become ELK ids with a prefix per namespace, since a host, a node and a resource
 * may share a name (a node `ops` on host `ops`), and ELK needs them unique.
 */
// The package is CommonJS whose typings say `export default`: under NodeNext, TypeScript
// types the import as the module object, and at run time Node gives `module.exports` while
// esbuild gives its `default`. The constructor is both (it sets `ELK.default = ELK`).
const ElkConstructor = ((ElkModule as unknown as { default?: unknown }).default ?? ElkModule) as new (args?: ELKConstructorArguments) => ELK;

const hostKey = (id: string): string => `h:${id}`;
const nodeKey = (id: string): string => `n:${id}`;
const resourceKey = (id: string): string => `r:${id}`;

export interface LayoutOptions {
  /**
   * Which edges carry a label: `all`; `problems` (only edges with a finding; the colour and
   * the legend say what flows, and each edge's tooltip lists it); `auto` (default): all up
   * to AUTO_LABEL_LIMIT edges, else problems only. Past that many, ELK stacks the labels in
   * one column between hosts and resources, away from their lines, and they hide the wiring.
   */
  edgeLabels?: 'all' | 'problems' | 'auto';
  /**
   * Lines of live figures to make room for, by node or resource id (the Operations
   * Dashboard's throughput, queue depth): the boxes grow by that many lines.
   */
  liveLines?: Readonly<Record<string, number>>;
  /**
   * Edges to keep room on for a live figure, by edge id (the Operations Dashboard's
   * throughput): their label grows by `METRICS.liveEdgeWidth`, and an edge whose flows are not
   * labelled (past AUTO_LABEL_LIMIT) gets a label of its own holding only the figure.
   */
  liveEdges?: readonly string[];
}

export const AUTO_LABEL_LIMIT = 24;

/**
 * A box's size with room for `lines` live figures under its own text. The room is fixed at
 * layout time so that the figures can change in place without moving anything.
 */
export function withLiveLines(size: { width: number; height: number }, lines: number): { width: number; height: number } {
  if (lines <= 0) return size;
  const m = METRICS;
  return { width: Math.max(size.width, m.liveMinWidth), height: size.height + m.liveGap + lines * m.bodyLine };
}

export async function layoutDeployment(graph: DeploymentGraph, findings: Finding[], options: LayoutOptions = {}): Promise<LaidOutGraph> {
  const m = METRICS;
  const problems = problemsById(findings);
  const elementIds = new Set([...graph.nodes.map((n) => n.id), ...graph.resources.map((r) => r.id)]);

  const nodeHost = new Map(graph.nodes.map((n) => [n.id, n.host]));
  const hostIds = [...new Set([...graph.hosts.map((h) => h.id), ...graph.nodes.map((n) => n.host), ...graph.resources.flatMap((r) => (r.host ? [r.host] : []))])];

  const shownDetails = fitDetails(graph.resources.map((r) => r.detail), m.bodySize, m.maxDetailWidth);
  const detailShown = new Map(graph.resources.map((r, i) => [r.id, shownDetails[i]!]));
  const elkNodeOf = (id: string, size: { width: number; height: number }): ElkNode => ({ id, ...size });
  const liveLinesOf = (id: string): number => Math.max(0, Math.floor(options.liveLines?.[id] ?? 0));

  const hostChildren = new Map<string, ElkNode[]>(hostIds.map((h) => [h, []]));
  for (const node of graph.nodes) {
    hostChildren.get(node.host)!.push(elkNodeOf(nodeKey(node.id), withLiveLines(nodeSize(node), liveLinesOf(node.id))));
  }
  const networkResources: ElkNode[] = [];
  for (const resource of graph.resources) {
    const box = elkNodeOf(resourceKey(resource.id), withLiveLines(resourceSize({ ...resource, detailShown: detailShown.get(resource.id)! }), liveLinesOf(resource.id)));
    if (resource.host) hostChildren.get(resource.host)!.push(box);
    else networkResources.push(box);
  }

  // Layered layout wants edges to point one way, but data goes both ways between a host
  // and a store (the collector writes raw crashes, the processor on the same host reads
  // them): laid out as they flow, every host and store would sit on a cycle. So every edge
  // is laid out as if it went from the node to the resource, which puts the hosts in the
  // first layers and the network resources after them, and is turned back afterwards: the
  // arrow still points the way the data goes.
  const resourceIds = new Set(graph.resources.map((r) => r.id));
  const reversedForLayout = (edge: { from: string; to: string }): boolean => resourceIds.has(edge.from) && !resourceIds.has(edge.to);

  const endpointKey = new Map<string, string>([
    ...graph.nodes.map((n): [string, string] => [n.id, nodeKey(n.id)]),
    ...graph.resources.map((r): [string, string] => [r.id, resourceKey(r.id)]),
  ]);
  const drawnEdges = graph.edges.filter((e) => e.from !== e.to && endpointKey.has(e.from) && endpointKey.has(e.to));
  const mode = options.edgeLabels ?? 'auto';
  const labelAll = mode === 'all' || (mode === 'auto' && drawnEdges.length <= AUTO_LABEL_LIMIT);
  const liveEdges = new Set(options.liveEdges ?? []);
  const labelWidth = (text: string, live: boolean): number =>
    (text ? textWidth(text, m.bodySize) : 0) + (live ? (text ? m.liveEdgeGap : 0) + m.liveEdgeWidth : 0) + 2 * m.labelPadX;
  const labelTexts = drawnEdges.map((edge) => (labelAll || problems.has(edge.id) ? edgeLabelText(edge.flows) : ''));
  const elkEdges: ElkExtendedEdge[] = drawnEdges.map((edge, index) => {
    const text = labelTexts[index]!;
    const live = liveEdges.has(edge.id);
    // ELK leaves a label without text unplaced: one holding only a live figure gets a stand-in text (the result carries `text` as it is).
    const labels: ElkLabel[] =
      text || live ? [{ id: `l:${index}`, text: text || '/s', width: labelWidth(text, live), height: m.bodyLine + 2 * m.labelPadY }] : [];
    const [source, target] = reversedForLayout(edge) ? [edge.to, edge.from] : [edge.from, edge.to];
    return { id: `e:${index}`, sources: [endpointKey.get(source)!], targets: [endpointKey.get(target)!], labels };
  });

  // Past AUTO_LABEL_LIMIT (and with no live figures to place on the lines), straight runs
  // with diagonal fans instead of right angles: orthogonal routing gives each of the
  // forty-odd edges of a ten-node deployment its own vertical track, a comb of parallel
  // lines with some 160 crossings in which no line can be followed, while polylines leave
  // each host as a bundle and fan out to their stores. Labelled edges stay orthogonal: their
  // labels sit on the horizontal runs.
  const bundled = !labelAll && liveEdges.size === 0;
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      // Hosts on the left, the network resources on the right, labels on the horizontal
      // runs between them. Top-to-bottom was tried: labels then sit beside vertical runs,
      // and a label beside one of thirty parallel lines could belong to either neighbour.
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': bundled ? 'POLYLINE' : 'ORTHOGONAL',
      'elk.padding': '[top=20,left=20,bottom=20,right=20]',
      'elk.spacing.nodeNode': '36',
      'elk.spacing.edgeNode': '18',
      'elk.spacing.edgeEdge': '12',
      'elk.spacing.edgeLabel': '4',
      'elk.spacing.labelNode': '8',
      // Bundled lines need room to fan out at a shallow angle, or they pile into a wedge at the stores.
      'elk.layered.spacing.nodeNodeBetweenLayers': bundled ? '180' : '56',
      'elk.layered.spacing.edgeNodeBetweenLayers': '18',
      'elk.layered.spacing.edgeEdgeBetweenLayers': '12',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.edgeLabels.centerLabelPlacementStrategy': 'MEDIAN_LAYER',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      // Follow the order hosts, nodes and edges came in, so the same deployment always
      // gives the same drawing and small edits move little.
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.randomSeed': '1',
      // Absolute coordinates for everything, whatever box an edge ends up contained in.
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
    },
    children: [
      ...hostIds.map(
        (host): ElkNode => ({
          id: hostKey(host),
          layoutOptions: {
            'elk.padding': `[top=${m.hostHeader + 12},left=${m.hostPad},bottom=${m.hostPad},right=${m.hostPad}]`,
            'elk.nodeSize.constraints': 'MINIMUM_SIZE',
            // Hosts of different widths share the first layer: flush with the left margin, not indented by the widest.
            'elk.alignment': 'LEFT',
            'elk.nodeSize.minimum': `(${hostHeaderWidth(host) + 2 * m.hostPad}, 60)`,
          },
          children: hostChildren.get(host)!,
        }),
      ),
      ...networkResources,
    ],
    edges: elkEdges,
  };

  const elk = new ElkConstructor();
  const laid = await elk.layout(root);

  const shapes = new Map<string, Box>();
  const collect = (node: ElkNode): void => {
    for (const child of node.children ?? []) {
      shapes.set(child.id, { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 });
      collect(child);
    }
  };
  collect(laid);
  const laidEdges = new Map<string, ElkExtendedEdge>();
  const collectEdges = (node: ElkNode): void => {
    for (const edge of node.edges ?? []) laidEdges.set(edge.id, edge);
    for (const child of node.children ?? []) collectEdges(child);
  };
  collectEdges(laid);

  const shapeOf = (key: string): Box => shapes.get(key) ?? { x: 0, y: 0, width: 0, height: 0 };
  return {
    width: Math.ceil(laid.width ?? 0),
    height: Math.ceil(laid.height ?? 0),
    hosts: hostIds.map((id) => ({
      id,
      ...shapeOf(hostKey(id)),
      // A target names a host only when no node or resource has that name (targets carry no namespace).
      problem: elementIds.has(id) ? undefined : problems.get(id),
    })),
    nodes: graph.nodes.map((n) => ({
      id: n.id,
      name: n.name,
      host: nodeHost.get(n.id)!,
      roles: [...n.roles],
      file: n.file,
      listen: n.listen,
      ...shapeOf(nodeKey(n.id)),
      problem: problems.get(n.id),
      ...(liveLinesOf(n.id) > 0 ? { liveLines: liveLinesOf(n.id) } : {}),
    })),
    resources: graph.resources.map((r) => ({
      id: r.id,
      kind: r.kind,
      label: r.label,
      detail: r.detail,
      detailShown: detailShown.get(r.id)!,
      backend: r.backend,
      ...(r.host ? { host: r.host } : {}),
      ...shapeOf(resourceKey(r.id)),
      problem: problems.get(r.id),
      ...(liveLinesOf(r.id) > 0 ? { liveLines: liveLinesOf(r.id) } : {}),
    })),
    edges: drawnEdges.map((edge, index): LaidOutEdge => {
      const laidEdge = laidEdges.get(`e:${index}`);
      const points: Point[] = [];
      for (const section of laidEdge?.sections ?? []) {
        for (const p of [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]) {
          const last = points[points.length - 1];
          if (!last || last.x !== p.x || last.y !== p.y) points.push({ x: p.x, y: p.y });
        }
      }
      if (reversedForLayout(edge)) points.reverse();
      const elkLabel = laidEdge?.labels?.[0];
      return {
        id: edge.id,
        from: edge.from,
        to: edge.to,
        flows: [...edge.flows],
        points,
        ...(elkLabel ? { label: laidLabel(elkLabel, labelTexts[index]!, liveEdges.has(edge.id)) } : {}),
        problem: problems.get(edge.id),
      };
    }),
  };
}

function laidLabel(elkLabel: ElkLabel, text: string, live: boolean): LaidOutLabel {
  const m = METRICS;
  const label: LaidOutLabel = { text, x: elkLabel.x ?? 0, y: elkLabel.y ?? 0, width: elkLabel.width ?? 0, height: elkLabel.height ?? 0 };
  if (live) label.live = { x: label.x + label.width - m.labelPadX - m.liveEdgeWidth, y: label.y, width: m.liveEdgeWidth, height: label.height };
  return label;
}

export function hostHeaderWidth(host: string): number {
  // The header reads "host  <name>": a small caption, then the name in bold.
  return textWidth('host', METRICS.smallSize) + 8 + textWidth(host, METRICS.titleSize, true);
}
