/**
 * What every validator check is given and the small helpers they share. A check is one
 * function over the compiled deployment that returns its findings, each placed at the line
 * an operator would change.
 */

import type { NodeResources } from '../compile.js';
import type { Deployment, DeploymentNode, Finding } from '../deployment.js';

export type Check = (deployment: Deployment, context: Context) => Finding[];

export interface Context {
  resources: Map<DeploymentNode, NodeResources>;
  /** Place of an option of a node: the line that set it, or its node file's section. */
  at(node: DeploymentNode, option: string): { file: string; line: number };
  /** Resource kinds whose host-local use across hosts was reported, per node: the mismatch checks then stay quiet. */
  hostLocal: Set<string>;
}

export const has = (node: DeploymentNode, role: string): boolean => (node.roles as string[]).includes(role);
export const names = (nodes: readonly DeploymentNode[]): string => nodes.map((n) => n.id).join(', ');

/** Addresses that mean "every interface" to the HTTP server. */
export const ALL_INTERFACES = new Set(['0.0.0.0', '::', '']);

/** Whether the option's value was written in a file (not a default, nor the environment). */
export function setInFile(node: DeploymentNode, option: string): boolean {
  return node.origins.get(option)?.kind === 'file';
}

/** Whether the option's value was written in the node's own file (not an included one). */
export function setInOwnFile(node: DeploymentNode, option: string): boolean {
  const origin = node.origins.get(option);
  return origin?.kind === 'file' && origin.file === node.file;
}

/**
 * The option to blame among those that make a resource's identity: one the node's own
 * file sets (where it departs from the shared settings), else one set in any file, else
 * `fallback`.
 */
export function pickOption(node: DeploymentNode, candidates: readonly string[], fallback: string): string {
  return candidates.find((c) => setInOwnFile(node, c)) ?? candidates.find((c) => setInFile(node, c)) ?? fallback;
}

export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
  } catch {
    return false;
  }
}

/** A duration in ms as the findings show it: `2.5 s`. */
export const seconds = (ms: number): string => `${ms / 1000} s`;

/** `a`, `a and b`, `a, b and c`. */
export function listed(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * Whether an alert rule's `node` entry names the node: NAME (on every host) or NAME@HOST.
 * A node without `node.host` reports the machine's host name, which the files do not tell:
 * any host is taken to match it.
 */
export function ruleNamesNode(entry: string, node: DeploymentNode): boolean {
  const at = entry.lastIndexOf('@');
  if (at < 0) return entry === node.id;
  return entry.slice(0, at) === node.id && (node.config.node.host === undefined || entry.slice(at + 1) === node.config.node.host);
}
