/**
 * What changed between two deployments (`mayday config diff A B`): nodes added and
 * removed, each option whose effective value changed on a node (by name), the graph's
 * resources and edges that appeared or went away, and the validator's findings that
 * appeared or went away. Values are compared after loading, so a setting moved into a
 * shared include file is no change, and secrets are never printed.
 */

import { listOptions } from '../config/schema.js';
import type { OptionSpec } from '../config/option-types.js';
import type { ValueOrigin } from '../config/load.js';
import { LAYERS, formatFinding, type Deployment, type DeploymentGraph, type DeploymentNode, type Finding } from './deployment.js';

export interface OptionChange {
  node: string;
  option: string;
  before: string;
  after: string;
  /** Where the new value is set (`web.ini:12`, `default`). */
  at: string;
}

export interface DeploymentDiff {
  nodesAdded: string[];
  nodesRemoved: string[];
  options: OptionChange[];
  resourcesAdded: string[];
  resourcesRemoved: string[];
  edgesAdded: string[];
  edgesRemoved: string[];
  /** Findings of B that A does not have (where B has them). */
  findingsNew: Finding[];
  /** Findings of A that B no longer has (where A had them). */
  findingsResolved: Finding[];
}

export function diffDeployments(a: Deployment, b: Deployment): DeploymentDiff {
  const before = new Map(a.nodes.map((n) => [n.id, n]));
  const after = new Map(b.nodes.map((n) => [n.id, n]));
  const options: OptionChange[] = [];
  for (const [id, next] of after) {
    const previous = before.get(id);
    if (previous) options.push(...optionChanges(previous, next));
  }
  const describeResources = (graph: DeploymentGraph): Map<string, string> => new Map(graph.resources.map((r) => [r.id, `${r.label} (${r.detail})`]));
  const ra = describeResources(a.graph);
  const rb = describeResources(b.graph);
  const describeEdges = (d: Deployment, resources: Map<string, string>): Map<string, string> => {
    const name = (id: string): string => resources.get(id) ?? id.replace(/^node:/, '');
    return new Map(d.graph.edges.map((e) => [e.id, `${name(e.from)} -> ${name(e.to)}: ${e.flows.join(', ')}`]));
  };
  const ea = describeEdges(a, ra);
  const eb = describeEdges(b, rb);
  const only = (x: Map<string, string>, y: Map<string, string>): string[] => [...x].filter(([id]) => !y.has(id)).map(([, text]) => text);
  return {
    nodesAdded: [...after.keys()].filter((id) => !before.has(id)),
    nodesRemoved: [...before.keys()].filter((id) => !after.has(id)),
    options,
    resourcesAdded: only(rb, ra),
    resourcesRemoved: only(ra, rb),
    edgesAdded: only(eb, ea),
    edgesRemoved: only(ea, eb),
    ...findingChanges(a, b),
  };
}

/**
 * A finding is the same in A and B when its kind, file (by base name: A and B are usually
 * two directories), option and message are; its line is left out, so an edit that moves
 * lines does not report every finding below it as resolved and new again. Counted as a
 * multiset: a mistake made twice and fixed once is one resolved finding.
 */
function findingChanges(a: Deployment, b: Deployment): Pick<DeploymentDiff, 'findingsNew' | 'findingsResolved'> {
  const keyed = (d: Deployment): [string, Finding][] => {
    const normalize = messageNormalizer(d);
    return sortFindings(d.findings).map((f) => [[f.layer, f.code, f.severity, baseName(f.file), f.option ?? '', normalize(f.message)].join('\u0000'), f]);
  };
  const unmatched = (x: [string, Finding][], y: [string, Finding][]): Finding[] => {
    const left = new Map<string, number>();
    for (const [key] of y) left.set(key, (left.get(key) ?? 0) + 1);
    return x.flatMap(([key, finding]) => {
      const n = left.get(key) ?? 0;
      if (n === 0) return [finding];
      left.set(key, n - 1);
      return [];
    });
  };
  const ka = keyed(a);
  const kb = keyed(b);
  return { findingsNew: unmatched(kb, ka), findingsResolved: unmatched(ka, kb) };
}

/**
 * Messages name other files (`as web does (/srv/b/web.ini)`) and lines (`rule "a" (line
 * 12) comes first`): both are written the way they would be in the other deployment.
 */
function messageNormalizer(d: Deployment): (message: string) => string {
  // Longest first, so that `a/web.ini` is not half-replaced by a shorter name ending it.
  const names = [...new Set(d.files.map((f) => f.name))].filter((n) => n !== baseName(n)).sort((x, y) => y.length - x.length);
  return (message) => {
    let out = message;
    for (const name of names) out = out.split(name).join(baseName(name));
    return out.replace(/\bline \d+/g, 'line #');
  };
}

/** The last path segment; node:path is not in the browser. */
function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((x, y) => x.file.localeCompare(y.file) || (x.line ?? 0) - (y.line ?? 0) || LAYERS.indexOf(x.layer) - LAYERS.indexOf(y.layer));
}

function optionChanges(previous: DeploymentNode, next: DeploymentNode): OptionChange[] {
  const out: OptionChange[] = [];
  for (const { section, key, spec } of listOptions()) {
    const id = `${section}.${key}`;
    const x = show(spec, (previous.config as unknown as Record<string, Record<string, unknown>>)[section][key]);
    const y = show(spec, (next.config as unknown as Record<string, Record<string, unknown>>)[section][key]);
    if (x === y) continue;
    out.push({ node: next.id, option: id, before: spec.secret ? '(secret)' : x, after: spec.secret ? '(secret, changed)' : y, at: describeOrigin(next.origins.get(id)) });
  }
  return out;
}

function show(spec: OptionSpec<unknown>, value: unknown): string {
  if (value === undefined) return '(unset)';
  return spec.format(value);
}

function describeOrigin(origin: ValueOrigin | undefined): string {
  switch (origin?.kind) {
    case 'file':
      return `${origin.file}:${origin.line}`;
    case 'env':
      return origin.variable;
    case 'override':
      return 'command line';
    default:
      return 'default';
  }
}

export function isEmptyDiff(diff: DeploymentDiff): boolean {
  return Object.values(diff).every((list: unknown[]) => list.length === 0);
}

export function formatDiff(diff: DeploymentDiff): string {
  const lines: string[] = [];
  for (const node of diff.nodesAdded) lines.push(`+ node ${node}`);
  for (const node of diff.nodesRemoved) lines.push(`- node ${node}`);
  for (const change of diff.options) lines.push(`~ ${change.node}: ${change.option}: ${change.before} -> ${change.after} (${change.at})`);
  if (diff.resourcesAdded.length + diff.resourcesRemoved.length + diff.edgesAdded.length + diff.edgesRemoved.length > 0) lines.push('graph:');
  for (const r of diff.resourcesAdded) lines.push(`+ resource ${r}`);
  for (const r of diff.resourcesRemoved) lines.push(`- resource ${r}`);
  for (const e of diff.edgesAdded) lines.push(`+ edge ${e}`);
  for (const e of diff.edgesRemoved) lines.push(`- edge ${e}`);
  if (diff.findingsNew.length + diff.findingsResolved.length > 0) lines.push('findings:');
  for (const f of diff.findingsNew) lines.push(`+ new ${formatFinding({ ...f, hint: undefined })}`);
  for (const f of diff.findingsResolved) lines.push(`- resolved ${formatFinding({ ...f, hint: undefined })}`);
  return lines.length === 0 ? 'no differences\n' : lines.join('\n') + '\n';
}

