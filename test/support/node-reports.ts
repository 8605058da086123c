import type { NodeReport } from '../../src/ports/node-registry.js';

/** A node's registry report as a test wants it: a processor on machine `m`, seen a second before `now`. */
export function nodeReport(name: string, now: number, overrides: Partial<NodeReport> = {}): NodeReport {
  return {
    id: `${name}@m:${overrides.pid ?? 1}`,
    name,
    host: 'm',
    pid: 1,
    roles: ['processor'],
    version: '0.1.0',
    url: 'http://m:8000',
    startedAt: now - 3_600_000,
    lastSeen: now - 1000,
    stats: {},
    ...overrides,
  };
}
