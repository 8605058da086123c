import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDumps } from '../../support/corpus.js';
import { startCollector, type Harness } from './harness.js';
import { crashIdOf, dumpPart, fields, submit } from './http.js';
import type { ProcessingQueue } from '../../../src/ports/queue.js';
import type { RawCrashStore } from '../../../src/ports/raw-crash-store.js';
import { collectorPlugin } from '../../../src/roles/collector/plugin.js';
import Fastify from 'fastify';
import { DEFAULT_LIMITS } from './harness.js';

const dump = readFileSync(corpusDumps()[0].path);
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('throttling at the collector', () => {
  it('rejects with 200 Discarded=<rule> and stores nothing; defers with digit 1, stored but not queued', async () => {
    harness = await startCollector({
      throttle: {
        products: [],
        honourThrottleable: true,
        rules: [
          { name: 'old_versions', action: 'reject', version: /^0\./ },
          { name: 'nightly_gpu', action: 'defer', channels: ['nightly'], annotations: { ProcessType: /^gpu$/ } },
        ],
      },
    });
    const rejected = await submit(harness.url, [...fields({ ProductName: 'App', Version: '0.9' }), dumpPart(dump)]);
    expect([rejected.status, rejected.text]).toEqual([200, 'Discarded=old_versions\n']);
    expect(readdirSync(join(harness.dir, 'raw')).filter((d) => /^\d+$/.test(d))).toEqual([]);

    const deferred = crashIdOf(await submit(harness.url, [...fields({ ProductName: 'App', Version: '1.0', ReleaseChannel: 'nightly', ProcessType: 'gpu' }), dumpPart(dump)]));
    expect(deferred.at(-7)).toBe('1');
    expect((await harness.store.get(deferred))?.metadata).toMatchObject({ throttle_result: 'defer', throttle_rule: 'nightly_gpu' });

    const accepted = crashIdOf(await submit(harness.url, [...fields({ ProductName: 'App', Version: '1.0', ReleaseChannel: 'nightly', ProcessType: 'renderer' }), dumpPart(dump)]));
    expect(accepted.at(-7)).toBe('0');
    expect(await harness.queued()).toEqual([accepted]);
  });

  it('honours Throttleable=0 and the product allow-list', async () => {
    harness = await startCollector({ throttle: { products: ['App'], honourThrottleable: true, rules: [{ name: 'everything', action: 'reject' }] } });
    const other = await submit(harness.url, fields({ ProductName: 'Other', Version: '1', Throttleable: '0' }));
    expect(other.text).toBe('Discarded=unsupported_product\n');
    const kept = crashIdOf(await submit(harness.url, fields({ ProductName: 'App', Version: '1', Throttleable: '0' })));
    expect((await harness.store.get(kept))?.metadata.throttle_rule).toBe('throttleable_0');
    expect((await submit(harness.url, fields({ ProductName: 'App', Version: '1' }))).text).toBe('Discarded=everything\n');
  });

  it('decides on every annotation even when they come after the dump', async () => {
    harness = await startCollector({ throttle: { products: [], honourThrottleable: true, rules: [{ name: 'defer_beta', action: 'defer', channels: ['beta'] }] } });
    const id = crashIdOf(await submit(harness.url, [dumpPart(dump), ...fields({ ProductName: 'App', Version: '1', ReleaseChannel: 'beta' })]));
    expect(id.at(-7)).toBe('1');
    expect((await harness.store.getDump(id, 'upload_file_minidump'))?.equals(dump)).toBe(true);
    expect(await harness.queued()).toEqual([]);
  });
});

/** A queue that fails while `down` is set: a test double of the port, not a mock of a library. */
function flakyQueue(inner: ProcessingQueue, state: { down: boolean }): ProcessingQueue {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'enqueue') {
        return async (...args: Parameters<ProcessingQueue['enqueue']>) => {
          if (state.down) throw new Error('queue unavailable');
          return target.enqueue(...args);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('never losing an answered crash', () => {
  it('answers CrashID when the queue fails, journals the crash, and the sweeper queues it once the queue is back', async () => {
    const state = { down: true };
    harness = await startCollector({ wrapQueue: (q) => flakyQueue(q, state), sweepIntervalMs: 100 });
    const id = crashIdOf(await submit(harness.url, [...fields({ ProductName: 'App', Version: '1' }), dumpPart(dump)]));
    expect(await harness.store.get(id)).toBeDefined();
    expect(await harness.pending.list(10)).toEqual([{ crashId: id, queue: 'standard' }]);
    await new Promise((r) => setTimeout(r, 250));
    expect(await harness.pending.list(10)).toHaveLength(1); // still down: still pending
    state.down = false;
    for (let i = 0; i < 50 && (await harness.pending.list(10)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await harness.pending.list(10)).toEqual([]);
    expect(await harness.queued()).toEqual([id]);
    expect(await harness.metrics.metrics()).toMatch(/mayday_collector_pending_queued_total 1/);
  });

  it('queues pending crashes at start-up', async () => {
    const state = { down: true };
    harness = await startCollector({ wrapQueue: (q) => flakyQueue(q, state) });
    const id = crashIdOf(await submit(harness.url, fields({ ProductName: 'App', Version: '1' })));
    const dir = harness.dir;
    await harness.app.close();
    await harness.queue.close();
    const restarted = await startCollector({ dir });
    try {
      expect(await restarted.queued()).toEqual([id]);
      expect(await restarted.pending.list(10)).toEqual([]);
    } finally {
      await restarted.close();
    }
  });

  it('answers 500 when storage fails, and nothing else', async () => {
    const failing: RawCrashStore = {
      begin: async () => {
        throw new Error('disk full');
      },
      get: async () => undefined,
      getDump: async () => undefined,
      listDay: async function* () {},
      days: async () => [],
      delete: async () => undefined,
      check: async () => undefined,
    };
    harness = await startCollector();
    const app = Fastify({ logger: false });
    await app.register(collectorPlugin, { rawCrashStore: failing, queue: harness.queue, pending: harness.pending, sweepIntervalMs: 60_000, limits: DEFAULT_LIMITS });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const withDump = await submit(url, [...fields({ ProductName: 'App', Version: '1' }), dumpPart(dump)]);
      expect([withDump.status, withDump.text]).toEqual([500, 'Error=storage_failed\n']);
      const noDump = await submit(url, fields({ ProductName: 'App', Version: '1' }));
      expect(noDump.status).toBe(500);
      const malformed = await submit(url, [dumpPart(dump, '..')]);
      expect(malformed.status).toBe(400);
    } finally {
      await app.close();
    }
  });
});
