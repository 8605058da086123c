/**
 * The one identity of a node across the Operations Dashboard, its alerts and its history:
 * `name@host`. Every node is called `mayday` unless configured, so a name alone cannot tell
 * two machines' nodes apart; the pid can, but changes at every restart, which is the same
 * node coming back. The host is the deployment's name for the machine (`node.host`) when
 * set, else the machine's host name, so a node restarted in a container with a new host
 * name but the same `node.host` is still the same node.
 *
 * Node names and hosts cannot hold `@` (the configuration's patterns), so the key parses back.
 */

export interface NodeIdentityFields {
  readonly name: string;
  /** The machine's host name, as the registry stores it. */
  readonly host: string;
  /** `node.host`, when configured. */
  readonly deploymentHost?: string;
}

/** The host a node is known by: `node.host` when set, else the machine's. */
export function nodeHost(node: NodeIdentityFields): string {
  return node.deploymentHost ?? node.host;
}

/** `name@host`. */
export function nodeKey(node: NodeIdentityFields): string {
  return `${node.name}@${nodeHost(node)}`;
}

/** The name part of a key (a bare name is its own name). */
export function nameOfKey(ref: string): string {
  const at = ref.indexOf('@');
  return at === -1 ? ref : ref.slice(0, at);
}

export type NodeRefMatch = { readonly key: string } | { readonly ambiguous: readonly string[] } | undefined;

/**
 * Which known key a reference names: a key names itself; a bare name (links from before
 * keys, an operator typing a name) names the one key with that name, and is ambiguous
 * when several hosts run a node of that name. Unknown: undefined.
 */
export function resolveNodeRef(ref: string, keys: Iterable<string>): NodeRefMatch {
  const known = [...new Set(keys)];
  if (known.includes(ref)) return { key: ref };
  if (ref.includes('@')) return undefined;
  const named = known.filter((key) => nameOfKey(key) === ref).sort();
  if (named.length === 1) return { key: named[0] };
  return named.length === 0 ? undefined : { ambiguous: named };
}
