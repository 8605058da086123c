import { createHash } from 'node:crypto';
import { listOptions, type Config } from '../config/schema.js';

/**
 * What a node tells the registry about its configuration: the effective values without
 * secrets (the Dashboard draws the running topology from them, with the Configurator's
 * code), and a hash of everything that should be the same on its peers, secrets included
 * (a processor on another database password is a processor on another database).
 */

/** Options that are a node's own, so they differ between peers by design. */
const OWN_OPTIONS = new Set(['node.name', 'node.host', 'node.data_dir', 'web.host', 'web.port', 'web.public_url']);

export interface ConfigFingerprint {
  hash: string;
  /** By section and option; secret options are left out. */
  shared: Record<string, Record<string, unknown>>;
}

function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

export function configFingerprint(config: Config): ConfigFingerprint {
  const sections = config as unknown as Record<string, Record<string, unknown>>;
  const shared: Record<string, Record<string, unknown>> = {};
  const hashed: [string, unknown][] = [];
  for (const { section, key, spec } of listOptions()) {
    const value = sections[section]?.[key];
    if (value === undefined) continue;
    // Regular expressions and rules are compared by their text, as written.
    const plain = spec.format(value);
    if (!OWN_OPTIONS.has(`${section}.${key}`)) hashed.push([`${section}.${key}`, plain]);
    if (spec.secret && spec.kind !== 'url') continue;
    // A secret URL (database, broker) is kept without its credentials: where it points is
    // what the topology needs, and is no secret.
    (shared[section] ??= {})[key] = spec.secret ? withoutCredentials(String(value)) : spec.kind === 'rules' ? plain : value;
  }
  return { hash: createHash('sha256').update(JSON.stringify(hashed)).digest('hex').slice(0, 16), shared };
}
