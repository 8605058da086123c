/**
 * Faults of processes of the distributed deployment, on real processes (no mocks): a
 * collector killed (SIGKILL) while clients are submitting, a processor killed while it
 * holds crashes it has not acknowledged, and the S3 server stopped and started again (the
 * tests share one deployment on the machine's PostgreSQL and RabbitMQ; the outages of
 * those are in faults-services.test.ts, on servers of the test's own). Each test counts
 * crashes submitted, crash ids given to the clients, and crashes indexed (Super Search's
 * uuid facet on the web node): every id given is indexed exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBlackhole, type LocalS3 } from '../adapters/s3rver-support.js';
import { pgSkip, pgUrl } from '../adapters/pg-support.js';
import { runClients, type Attempt } from '../support/crash-clients.js';
import { compareIndex, Deployment, expectAllIndexedOnce, expectAllRunning, reportFigures as report, s3Settings, sleep, startDeploymentS3 } from '../support/distributed-deployment.js';
import { eventually } from '../support/mayday-process.js';
import { rabbitSkip, rabbitUrl } from '../support/rabbitmq.js';

const skip = pgSkip || rabbitSkip;

describe.skipIf(skip !== false)(`distributed faults: killed nodes, a stopped S3 server${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let s3: LocalS3;
  /** The S3 server started again where `s3` was (same port and directory). */
  let restarted: LocalS3 | undefined;
  let deployment: Deployment;

  beforeAll(async () => {
    s3 = await startDeploymentS3();
    deployment = await Deployment.start({
      label: 'faults-processes',
      postgresUrl: pgUrl,
      rabbitUrl,
      s3: s3Settings(s3),
      // Two attempts (a second of backoff): the S3 outage outlasts them, as a real one
      // outlasts the default five (15 s), without making the test wait that long.
      env: { MAYDAY_PROCESSOR_MAX_ATTEMPTS: '2' },
    });
  }, 120_000);

  afterAll(async () => {
    await deployment?.stop();
    await restarted?.dispose();
    await s3?.dispose();
  }, 60_000);

  it('a collector killed under load loses no acknowledged crash, and is restarted on its port', async () => {
    const started = Date.now();
    const product = 'FaultCollectorKill';
    // Two clients on slow links (each body takes about half a second, so they are
    // mid-body when the collector dies) and two sending at full speed.
    const clients = runClients({
      collector: deployment.url('collector'),
      product,
      clients: 4,
      crashesPerClient: 8,
      trickle: (n) => (n < 2 ? { slices: 8, pauseMs: 60 } : undefined),
      retryDelayMs: 150,
    });
    await eventually(async () => (clients.accepted() >= 8 ? true : undefined), 60_000, 'the first crashes acknowledged');
    const killedAt = Date.now();
    expect(await deployment.kill('collector', 'SIGKILL')).toBe('SIGKILL');
    // The clients meet a closed port for a while, as when a supervisor restarts the service.
    await sleep(1000);
    await deployment.startNode('collector');
    const result = await clients.done;

    expect(result.failures).toEqual([]);
    expect(result.crashIds).toHaveLength(result.submitted);
    expect(new Set(result.crashIds).size).toBe(result.crashIds.length);
    // The kill did cut submissions in flight: an attempt begun before it got no answer.
    const cut = result.attempts.filter((a) => a.outcome === 'connection_error' && a.startedAt < killedAt);
    expect(cut.length, 'attempts in flight when the collector was killed').toBeGreaterThan(0);

    const indexed = await deployment.waitIndexed(product, result.crashIds, 90_000);
    const { missing, duplicates, unacknowledged } = compareIndex(result.crashIds, indexed);
    expect(missing).toEqual([]);
    expect(duplicates).toEqual([]);
    // A crash stored and queued whose answer was lost to the kill is processed without
    // its client knowing (the client sent it again, and that copy was acknowledged): the
    // only crashes allowed in the index besides those acknowledged. Each is traced, by
    // the annotations it carries, to an attempt that got no answer.
    const unanswered = new Map(result.attempts.filter((a) => a.outcome !== 'accepted').map((a) => [`${a.client}/${a.crash}/${a.attempt}`, a]));
    for (const id of unacknowledged) {
      const raw = (await (await fetch(`${deployment.url('web')}/api/RawCrash/?crash_id=${id}`)).json()) as { FaultClient?: string; FaultCrash?: string; FaultAttempt?: string };
      const attempt: Attempt | undefined = unanswered.get(`${raw.FaultClient}/${raw.FaultCrash}/${raw.FaultAttempt}`);
      expect(attempt, `crash ${id} in the index (${JSON.stringify(raw)}) comes from an attempt that got no answer`).toBeDefined();
      expect(attempt!.outcome).toBe('connection_error');
    }
    expect(unacknowledged.length).toBeLessThanOrEqual(cut.length);

    report('collector SIGKILL', {
      submitted: result.submitted,
      attempts: result.attempts.length,
      cut: cut.length,
      crashIds: result.crashIds.length,
      indexed: indexed.counts.size,
      unacknowledgedIndexed: unacknowledged.length,
      seconds: (Date.now() - started) / 1000,
    });
  }, 180_000);

  it('a processor killed while it holds unacknowledged crashes: the other processes each of them once', async () => {
    const started = Date.now();
    const product = 'FaultProcessorKill';
    // Processor 1 is made slow: its symbol store never answers (and it waits for it
    // two minutes), so every crash it takes stays in its hands, mid-stackwalk, until it
    // is killed. Processor 2 is as usual.
    const blackhole = await startBlackhole();
    try {
      await deployment.kill('processor-1', 'SIGTERM');
      await deployment.startNode('processor-1', {
        MAYDAY_SYMBOLS_S3_ENDPOINT: blackhole.endpoint,
        MAYDAY_SYMBOLS_UPSTREAM_TIMEOUT: '120s',
        MAYDAY_PROCESSOR_CONCURRENCY: '2',
      });
      const result = await runClients({ collector: deployment.url('collector'), product, clients: 2, crashesPerClient: 8 }).done;
      expect(result.failures).toEqual([]);
      const ids = result.crashIds;
      expect(ids).toHaveLength(result.submitted);

      // Processor 2 processes its share; what is left is processor 1's: taken (mid-crash)
      // or prefetched, all unacknowledged at the broker. Settled when processor 2 is idle,
      // processor 1 has as many crashes in hand as the ledger has taken, and nothing has
      // moved since the last look.
      let previous = '';
      const held = await eventually(
        async () => {
          const indexed = await deployment.indexed(product);
          const rows = await deployment.sql<{ crash_id: string; state: string; attempts: number; lease: string | null }>(
            'SELECT crash_id, state, attempts, lease FROM queue_entries WHERE crash_id = ANY($1) ORDER BY crash_id',
            [ids],
          );
          const status = (await (await fetch(`${deployment.url('web')}/status/json`)).json()) as { processors: { id: string; in_flight: number }[] };
          const inFlight = (name: string): number | undefined => status.processors.find((p) => p.id.startsWith(`${name}@`))?.in_flight;
          const taken = rows.filter((r) => r.state === 'taken');
          const snapshot = JSON.stringify([indexed?.counts.size, rows]);
          const settled = indexed !== undefined && taken.length > 0 && inFlight('processor-2') === 0 && inFlight('processor-1') === taken.length && snapshot === previous;
          previous = snapshot;
          if (!settled) await new Promise((r) => setTimeout(r, 400));
          return settled ? { rows, taken } : undefined;
        },
        60_000,
        'processor 2 done with its share while processor 1 holds the rest',
      );
      expect(held.taken.length).toBeLessThanOrEqual(2); // processor 1's concurrency
      expect(held.taken.every((r) => Number(r.attempts) === 1)).toBe(true);

      expect(await deployment.kill('processor-1', 'SIGKILL')).toBe('SIGKILL');
      const indexed = await deployment.waitIndexed(product, ids, 60_000);
      const { missing, duplicates, unacknowledged } = compareIndex(ids, indexed);
      expect(missing).toEqual([]);
      expect(duplicates).toEqual([]);
      expect(unacknowledged).toEqual([]);
      // The crashes processor 1 was in the middle of were processed by processor 2, and
      // nothing is left in the queue's ledger.
      const log2 = deployment.log('processor-2');
      for (const { crash_id } of held.taken) expect(log2).toMatch(new RegExp(`"crashId":"${crash_id}".*"crash processed"`));
      expect(deployment.lastLog('processor-1')).not.toMatch(/"crash processed"/);
      await eventually(
        async () => ((await deployment.sql('SELECT 1 FROM queue_entries WHERE crash_id = ANY($1)', [ids])).length === 0 ? true : undefined),
        10_000,
        'the ledger emptied of the crashes',
      );

      report('processor SIGKILL', {
        submitted: result.submitted,
        crashIds: ids.length,
        heldByKilled: held.rows.length,
        midCrash: held.taken.length,
        indexed: indexed.counts.size,
        seconds: (Date.now() - started) / 1000,
      });
    } finally {
      await blackhole.close();
      // Processor 1 back as usual, for whatever runs after.
      if (!deployment.isRunning('processor-1')) await deployment.startNode('processor-1', { MAYDAY_SYMBOLS_S3_ENDPOINT: s3.endpoint });
    }
  }, 180_000);

  it('collectors answer 5xx (no crash id for a crash not saved), and every crash id given is processed once S3 is back', async () => {
    const started = Date.now();
    const product = 'FaultS3';
    const d = deployment;
    // Stopped as soon as these are acknowledged: the processors are still working on them.
    const before = await runClients({ collector: d.url('collector'), product, clients: 3, crashesPerClient: 6 }).done;
    const stoppedAt = Date.now();
    await s3.stop();

    // Clients keep trying through the outage; none is told its crash was saved.
    const clients = runClients({ collector: d.url('collector'), product, clients: 2, crashesPerClient: 4, retryDelayMs: 300 });
    await eventually(async () => (clients.outcomes().server_error >= 2 ? true : undefined), 60_000, 'the collector refusing crashes with 5xx');
    const processed = await fetch(`${d.url('web')}/api/ProcessedCrash/?crash_id=${before.crashIds[0]}`, { signal: AbortSignal.timeout(30_000) });
    const processedText = await processed.text();
    expect(processed.status, processedText).toBe(503);
    expect(processedText).toMatch(/storage is unavailable/i);
    await sleep(3000);
    const restartAt = Date.now();
    restarted = await startDeploymentS3(s3);
    const during = await clients.done;

    expect(during.attempts.filter((a) => a.outcome === 'accepted' && a.startedAt > stoppedAt && a.endedAt < restartAt)).toEqual([]);
    const refused = during.attempts.filter((a) => a.outcome === 'server_error');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => a.status! >= 500)).toBe(true);
    const figures = await expectAllIndexedOnce(d, product, [before, during], 90_000);
    // The outage did hit crashes being processed: they were retried, not dead-lettered.
    const processors = d.lastLog('processor-1') + d.lastLog('processor-2');
    expect(processors).toMatch(/"unavailable":"storage".*"processing failed; will retry"/);
    expect(processors).not.toMatch(/moved to the dead letters/);
    expectAllRunning(d);

    report('S3 stopped', {
      ...figures,
      refusedWith5xx: refused.length,
      outageSeconds: (restartAt - stoppedAt) / 1000,
      seconds: (Date.now() - started) / 1000,
    });
  }, 180_000);
});
