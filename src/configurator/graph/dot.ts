/**
 * The deployment graph as Graphviz DOT, for people who render graphs with their own tools:
 * one cluster per host, one shape per resource kind, edges labelled with what flows, the
 * elements findings name in the finding's colour. Pure: no DOM, no Node built-ins.
 */

import type { DeploymentGraph, Finding, Resource, ResourceKind } from '../deployment.js';
import { KIND_CAPTIONS, edgeLabelText, problemsById, type Problem } from './layout.js';
import { KIND_COLOURS, NODE_COLOURS } from './svg.js';

/** Graphviz colours for problems: named, since DOT readers know them without a legend. */
const DOT_PROBLEM = { error: 'red3', warning: 'darkorange' } as const;

const SHAPES: Record<ResourceKind, string> = {
  'raw-store': 'cylinder',
  'processed-store': 'cylinder',
  queue: 'cds',
  database: 'cylinder',
  'symbol-store': 'folder',
  'symbol-upstream': 'box3d',
};

/**
 * A DOT double-quoted string. Backslashes are doubled so that user text can never form an
 * escape such as `\N` or `\l`; a line break becomes `\n`, which Graphviz draws as one.
 */
export function dotString(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n?|\n/g, '\\n')
    // Control characters: Graphviz would take them literally or choke on them.
    .replace(/[\u0000-\u001f]/g, '');
  return `"${escaped}"`;
}

/** A label of several lines, each escaped, joined with DOT's own centred line break. */
function lines(...parts: string[]): string {
  return `"${parts.map((part) => dotString(part).slice(1, -1)).join('\\n')}"`;
}

function attributes(values: Record<string, string | number | undefined>): string {
  const list = Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    // Labels come pre-quoted from `lines`; everything else is quoted here.
    .map(([name, value]) => `${name}=${typeof value === 'string' && value.startsWith('"') ? value : dotString(String(value))}`);
  return list.length > 0 ? ` [${list.join(', ')}]` : '';
}

function problemAttributes(problem: Problem, kind: 'shape' | 'edge' | 'cluster'): Record<string, string | undefined> {
  if (!problem) return {};
  const colour = DOT_PROBLEM[problem];
  if (kind === 'edge') return { color: colour, fontcolor: colour, penwidth: '2.5' };
  return { color: colour, penwidth: '2.5' };
}

export function renderDot(graph: DeploymentGraph, findings: Finding[]): string {
  const problems = problemsById(findings);
  const nodeIds = new Set(graph.nodes.map((n) => n.id));
  // Node names and resource ids live in different namespaces in the model; in DOT they
  // share one, so a resource that happens to be named like a node gets a prefix.
  const resourceDotId = new Map(graph.resources.map((r) => [r.id, nodeIds.has(r.id) ? `resource:${r.id}` : r.id]));
  const dotId = (id: string): string => dotString(resourceDotId.get(id) ?? id);

  const out: string[] = [
    'digraph deployment {',
    `  graph${attributes({ rankdir: 'LR', fontname: 'DejaVu Sans', fontsize: 12, nodesep: 0.35, ranksep: 0.9, compound: 'true', newrank: 'true' })};`,
    `  node${attributes({ fontname: 'DejaVu Sans', fontsize: 11, style: 'filled', margin: '0.15,0.08' })};`,
    `  edge${attributes({ fontname: 'DejaVu Sans', fontsize: 10, color: '#64748b', fontcolor: '#334155' })};`,
  ];

  const nodeLine = (node: DeploymentGraph['nodes'][number], indent: string): string =>
    `${indent}${dotId(node.id)}${attributes({
      label: lines(node.name, node.roles.join(', '), node.listen),
      shape: 'box',
      style: 'rounded,filled',
      fillcolor: NODE_COLOURS.fill,
      color: NODE_COLOURS.stroke,
      tooltip: `${node.name} (${node.file})`,
      ...problemAttributes(problems.get(node.id), 'shape'),
    })};`;
  const resourceLine = (resource: Resource, indent: string): string => {
    const colours = KIND_COLOURS[resource.kind];
    return `${indent}${dotId(resource.id)}${attributes({
      label: lines(`${KIND_CAPTIONS[resource.kind]} · ${resource.backend}`, resource.label, resource.detail),
      shape: SHAPES[resource.kind],
      style: colours.dash ? 'filled,dashed' : 'filled',
      fillcolor: colours.fill,
      color: colours.stroke,
      ...problemAttributes(problems.get(resource.id), 'shape'),
    })};`;
  };

  const hostIds = [...new Set([...graph.hosts.map((h) => h.id), ...graph.nodes.map((n) => n.host), ...graph.resources.flatMap((r) => (r.host ? [r.host] : []))])];
  hostIds.forEach((host, index) => {
    out.push(`  subgraph cluster_${index} {`);
    out.push(`    graph${attributes({ label: `host ${host}`, style: 'rounded,filled', fillcolor: '#f8fafc', color: '#94a3b8', ...(nodeIds.has(host) ? {} : problemAttributes(problems.get(host), 'cluster')) })};`);
    for (const node of graph.nodes.filter((n) => n.host === host)) out.push(nodeLine(node, '    '));
    for (const resource of graph.resources.filter((r) => r.host === host)) out.push(resourceLine(resource, '    '));
    out.push('  }');
  });
  for (const resource of graph.resources.filter((r) => !r.host)) out.push(resourceLine(resource, '  '));

  for (const edge of graph.edges) {
    out.push(`  ${dotId(edge.from)} -> ${dotId(edge.to)}${attributes({ label: edgeLabelText(edge.flows), id: edge.id, ...problemAttributes(problems.get(edge.id), 'edge') })};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
