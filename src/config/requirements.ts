import type { ConfigFinding, ValueOrigin } from './load.js';

/**
 * Options that only make sense together: a back end chosen without what it needs. Checked
 * after every source is applied (the file, the environment and the command line may each
 * give one half), and reported at the line that chose the back end, so that a node never
 * starts half-configured and fails on its first crash.
 */
/** A `when` value meaning "set to anything" (an optional option given a value). */
export const IS_SET: unique symbol = Symbol('set');

interface Requirement {
  /** `section.key` and the value that brings the need (`IS_SET`: any value). */
  readonly when: readonly [string, unknown];
  /** An option that must then be set, or set to a value. */
  readonly needs: string;
  readonly value?: unknown;
  readonly message: string;
}

const REQUIREMENTS: readonly Requirement[] = [
  { when: ['storage.backend', 's3'], needs: 'storage.s3_bucket', message: 'storage.backend = s3 needs storage.s3_bucket' },
  { when: ['symbols.store', 's3'], needs: 'symbols.s3_bucket', message: 'symbols.store = s3 needs symbols.s3_bucket' },
  { when: ['database.backend', 'postgresql'], needs: 'database.url', message: 'database.backend = postgresql needs database.url' },
  { when: ['queue.backend', 'rabbitmq'], needs: 'queue.url', message: 'queue.backend = rabbitmq needs queue.url' },
  {
    when: ['queue.backend', 'rabbitmq'],
    needs: 'database.backend',
    value: 'postgresql',
    message: 'queue.backend = rabbitmq keeps its bookkeeping (waiting crashes, attempts, dead letters) in PostgreSQL: set database.backend = postgresql',
  },
  {
    when: ['auth.oidc_issuer', IS_SET],
    needs: 'web.public_url',
    message: 'auth.oidc_issuer needs web.public_url: the provider sends people back to PUBLIC_URL/login/oidc/callback, which must be the URL they reach this node at',
  },
  { when: ['auth.oidc_issuer', IS_SET], needs: 'auth.oidc_client_id', message: 'auth.oidc_issuer needs auth.oidc_client_id (the id Mayday is registered with at the provider)' },
];

/**
 * `unparsed`: options some source gave a value that failed to parse (already an error of
 * their own). A need they were meant to meet is not reported as well: the operator gave
 * it, and one mistake makes one finding.
 */
export function checkRequirements(values: ReadonlyMap<string, unknown>, origins: ReadonlyMap<string, ValueOrigin>, defaultSource: string, unparsed: ReadonlySet<string>): ConfigFinding[] {
  const findings: ConfigFinding[] = [];
  for (const { when, needs, value, message } of REQUIREMENTS) {
    const given = values.get(when[0]);
    if (when[1] === IS_SET ? given === undefined : given !== when[1]) continue;
    const met = value === undefined ? values.get(needs) !== undefined : values.get(needs) === value;
    if (!met && !unparsed.has(needs)) findings.push({ ...locate(origins.get(when[0]), defaultSource), severity: 'error', message });
  }
  return findings;
}

function locate(origin: ValueOrigin | undefined, defaultSource: string): Pick<ConfigFinding, 'source' | 'line'> {
  switch (origin?.kind) {
    case 'file':
      return { source: origin.file, line: origin.line };
    case 'env':
      return { source: 'environment' };
    case 'override':
      return { source: 'command line' };
    default:
      return { source: defaultSource };
  }
}
