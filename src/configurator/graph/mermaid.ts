/**
 * The deployment graph as a Mermaid flowchart, to paste into a Markdown issue or wiki page:
 * one subgraph per host, ids generated (`n0`, `r1`: Mermaid ids cannot hold a URL), every
 * label quoted and escaped, problems styled. Pure: no DOM, no Node built-ins.
 */

import type { DeploymentGraph, Finding, ResourceKind } from '../deployment.js';
import { KIND_CAPTIONS, edgeLabelText, problemsById } from './layout.js';
import { KIND_COLOURS, NODE_COLOURS, PROBLEM_COLOURS } from './svg.js';

/**
 * Text for a quoted Mermaid label. Mermaid reads `#name;` and `#123;` as entities, so `#`
 * itself is escaped first; `<`, `>` and `&` are escaped too, since labels are rendered as
 * HTML; a backquote would start a Markdown string.
 */
export function mermaidText(text: string): string {
  return text
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/&/g, '#amp;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/`/g, '#96;')
    .replace(/\|/g, '#124;')
    // A line break or control character would end the Mermaid statement.
    .replace(/[\u0000-\u001f]+/g, ' ');
}

const label = (...parts: string[]): string => `"${parts.map(mermaidText).join('<br/>')}"`;

/** Opening and closing brackets of each kind's shape. */
const SHAPES: Record<ResourceKind, [string, string]> = {
  'raw-store': ['[(', ')]'],
  'processed-store': ['[(', ')]'],
  queue: ['[[', ']]'],
  database: ['[(', ')]'],
  'symbol-store': ['{{', '}}'],
  'symbol-upstream': ['([', '])'],
};

const KIND_CLASS: Record<ResourceKind, string> = {
  'raw-store': 'kRawStore',
  'processed-store': 'kProcessedStore',
  queue: 'kQueue',
  database: 'kDatabase',
  'symbol-store': 'kSymbolStore',
  'symbol-upstream': 'kSymbolUpstream',
};

export function renderMermaid(graph: DeploymentGraph, findings: Finding[]): string {
  const problems = problemsById(findings);
  const ids = new Map<string, string>();
  graph.nodes.forEach((node, i) => ids.set(`node:${node.id}`, `n${i}`));
  graph.resources.forEach((resource, i) => ids.set(`resource:${resource.id}`, `r${i}`));
  // An edge end is a node or a resource; the model keeps both in one id space for edges.
  const endId = (id: string): string | undefined => ids.get(`node:${id}`) ?? ids.get(`resource:${id}`);

  const out: string[] = ['flowchart LR'];
  const nodeLine = (node: DeploymentGraph['nodes'][number]): string =>
    `${ids.get(`node:${node.id}`)}(${label(node.name, node.roles.join(', '), node.listen)})`;
  const resourceLine = (resource: DeploymentGraph['resources'][number]): string => {
    const [open, close] = SHAPES[resource.kind];
    return `${ids.get(`resource:${resource.id}`)}${open}${label(`${KIND_CAPTIONS[resource.kind]} · ${resource.backend}`, resource.label, resource.detail)}${close}`;
  };

  const nodeIds = new Set(graph.nodes.map((n) => n.id));
  const hostIds = [...new Set([...graph.hosts.map((h) => h.id), ...graph.nodes.map((n) => n.host), ...graph.resources.flatMap((r) => (r.host ? [r.host] : []))])];
  const hostStyles: string[] = [];
  hostIds.forEach((host, index) => {
    out.push(`  subgraph h${index}[${label(`host ${host}`)}]`);
    for (const node of graph.nodes.filter((n) => n.host === host)) out.push(`    ${nodeLine(node)}`);
    for (const resource of graph.resources.filter((r) => r.host === host)) out.push(`    ${resourceLine(resource)}`);
    out.push('  end');
    const problem = nodeIds.has(host) ? undefined : problems.get(host);
    if (problem) hostStyles.push(`  style h${index} stroke:${PROBLEM_COLOURS[problem]},stroke-width:3px`);
  });
  for (const resource of graph.resources.filter((r) => !r.host)) out.push(`  ${resourceLine(resource)}`);

  // linkStyle counts links in the order they are written, from 0.
  const problemLinks = { error: [] as number[], warning: [] as number[] };
  let linkIndex = 0;
  for (const edge of graph.edges) {
    const from = endId(edge.from);
    const to = endId(edge.to);
    if (!from || !to) continue;
    const text = edgeLabelText(edge.flows);
    out.push(text ? `  ${from} -->|${label(text)}| ${to}` : `  ${from} --> ${to}`);
    const problem = problems.get(edge.id);
    if (problem) problemLinks[problem].push(linkIndex);
    linkIndex++;
  }

  out.push(`  classDef kNode fill:${NODE_COLOURS.fill},stroke:${NODE_COLOURS.stroke},color:#1e293b`);
  for (const kind of Object.keys(KIND_CLASS) as ResourceKind[]) {
    const c = KIND_COLOURS[kind];
    out.push(`  classDef ${KIND_CLASS[kind]} fill:${c.fill},stroke:${c.stroke},color:#1e293b${c.dash ? `,stroke-dasharray:${c.dash}` : ''}`);
  }
  // Defined after the kinds, so that a problem's stroke wins over its kind's.
  out.push(`  classDef problemError stroke:${PROBLEM_COLOURS.error},stroke-width:3px,color:${PROBLEM_COLOURS.error}`);
  out.push(`  classDef problemWarning stroke:${PROBLEM_COLOURS.warning},stroke-width:3px`);

  const classOf = new Map<string, string[]>();
  const assign = (id: string, cls: string): void => {
    classOf.set(cls, [...(classOf.get(cls) ?? []), id]);
  };
  for (const node of graph.nodes) assign(ids.get(`node:${node.id}`)!, 'kNode');
  for (const resource of graph.resources) assign(ids.get(`resource:${resource.id}`)!, KIND_CLASS[resource.kind]);
  for (const node of graph.nodes) {
    const problem = problems.get(node.id);
    if (problem) assign(ids.get(`node:${node.id}`)!, problem === 'error' ? 'problemError' : 'problemWarning');
  }
  for (const resource of graph.resources) {
    const problem = problems.get(resource.id);
    if (problem) assign(ids.get(`resource:${resource.id}`)!, problem === 'error' ? 'problemError' : 'problemWarning');
  }
  for (const [cls, members] of classOf) out.push(`  class ${members.join(',')} ${cls}`);
  out.push(...hostStyles);
  for (const problem of ['error', 'warning'] as const) {
    if (problemLinks[problem].length > 0) {
      out.push(`  linkStyle ${problemLinks[problem].join(',')} stroke:${PROBLEM_COLOURS[problem]},stroke-width:3px,color:${PROBLEM_COLOURS[problem]}`);
    }
  }
  return `${out.join('\n')}\n`;
}
