import type { ProcessingContext } from '../../../src/roles/processor/rule.js';
import type { RawCrash } from '../../../src/ports/raw-crash-store.js';

/** A processing context for rule tests: a raw crash with the given annotations and dumps. */
export function contextFor(annotations: Record<string, string>, options: { dumps?: Record<string, Uint8Array>; processed?: Record<string, unknown> } = {}): ProcessingContext {
  const dumps = options.dumps ?? {};
  const raw: RawCrash = {
    uuid: '2b6e4c1a-1d2f-4e5a-9b8c-7d6e5f261128',
    submitted_timestamp: '2026-11-28T10:00:00.000Z',
    annotations,
    metadata: {
      collector_notes: [],
      dumps: Object.fromEntries(Object.entries(dumps).map(([name, bytes]) => [name, { size: bytes.length, sha256: `sha-of-${name}` }])),
      payload: 'multipart',
      payload_compressed: false,
      user_agent: 'test',
      throttle_result: 'accept',
      throttle_rule: 'test',
    },
  };
  return {
    crashId: raw.uuid,
    raw,
    annotations: { ...annotations },
    dumps: new Map(Object.entries(dumps)),
    processed: { submitted_timestamp: raw.submitted_timestamp, ...(options.processed ?? {}) },
    notes: [],
    startedAt: new Date('2026-11-28T10:00:01.000Z'),
  };
}
