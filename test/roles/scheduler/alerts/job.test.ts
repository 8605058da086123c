import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAlertState } from '../../../../src/adapters/sqlite-alert-state.js';
import { SqliteJobLedger } from '../../../../src/adapters/sqlite-job-ledger.js';
import { SqliteNodeRegistry } from '../../../../src/adapters/sqlite-node-registry.js';
import { SqliteOpsHistory } from '../../../../src/adapters/sqlite-ops-history.js';
import { SqliteQueue } from '../../../../src/adapters/sqlite-queue.js';
import type { NodeReport } from '../../../../src/ports/node-registry.js';
import { NOTICE_GIVE_UP_MS, retryAfterMs, runAlerts, type AlertSettings, type AlertStores } from '../../../../src/roles/scheduler/alerts/job.js';
import { alertSettings } from '../../../../src/roles/scheduler/alerts/settings.js';
import { alertsJob, scheduledJobs, type JobSettings } from '../../../../src/roles/scheduler/jobs.js';
import { historyPointsFrom } from '../../../../src/roles/web/ops-history-recorder.js';
import { Receiver } from './receiver.js';

const S = 1000;
const silent = pino({ level: 'silent' });

/** Real SQLite stores in a directory of their own, a real webhook receiver, and a clock the test moves. */
let dir: string;
let database: string;
let receiver: Receiver;
let registry: SqliteNodeRegistry;
let queue: SqliteQueue;
let jobLedger: SqliteJobLedger;
let alertState: SqliteAlertState;
let opsHistory: SqliteOpsHistory;
let stores: AlertStores;
let now: number;
const opened: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-alerts-'));
  database = join(dir, 'mayday.sqlite');
  receiver = await Receiver.start();
  registry = SqliteNodeRegistry.open(database);
  queue = SqliteQueue.open(join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000, fsync: false });
  jobLedger = SqliteJobLedger.open(database);
  alertState = SqliteAlertState.open(database);
  opsHistory = SqliteOpsHistory.open(database);
  opened.push(registry, queue, jobLedger, alertState, opsHistory);
  stores = { registry, queue, jobLedger, alertState, opsHistory };
  now = Date.now();
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

const node = (name: string, pid: number, lastSeen: number, extra: Partial<NodeReport> = {}): NodeReport => ({
  id: `${name}@host:${pid}`,
  name,
  host: 'host',
  pid,
  roles: ['processor'],
  version: '1.0.0',
  url: 'http://127.0.0.1:1',
  startedAt: lastSeen - 3600 * S,
  lastSeen,
  stats: {},
  ...extra,
});

const settingsOf = (rules: Record<string, Record<string, unknown>>, extra: Partial<Parameters<typeof alertSettings>[0]> = {}): AlertSettings =>
  alertSettings(
    {
      webhook_urls: [`${receiver.url}/hook/T0/B0/secret`],
      format: 'json',
      repeat_interval: 3_600_000,
      evaluate_interval: 10_000,
      timeout: 2000,
      rules: Object.entries(rules).map(([name, fields]) => ({ name, fields })),
      ...extra,
    },
    { down_after: 30_000 },
    'http://mayday.example/dashboard',
  );

const run = (settings: AlertSettings, s: AlertStores = stores) => runAlerts(s, settings, silent, { now: () => now, retryDelayMs: 5 });
const bodies = () => receiver.received.map((r) => r.body as Record<string, unknown>);
const sent = () => bodies().map((b) => `${String(b.status)} ${String(b.alert)}`);

describe('the alerts job on real SQLite stores and a real webhook receiver', () => {
  it('sends one notice when a processor goes down, none while it stays down, and one recovery when it restarts under its name', async () => {
    const settings = settingsOf({ processor_down: { kind: 'node_down', role: ['processor'], severity: 'critical' } });
    await registry.report(node('processor-1', 11, now));
    await registry.report(node('processor-2', 22, now));
    await registry.report(node('collector-1', 33, now, { roles: ['collector'] }));
    expect(await run(settings)).toMatchObject({ firing: 0, pending: 0, noticesSent: 0 });

    // processor-2 is killed: the others go on reporting.
    const killedAt = now;
    for (let t = 10; t <= 120; t += 10) {
      now = killedAt + t * S;
      await registry.report(node('processor-1', 11, now));
      await registry.report(node('collector-1', 33, now, { roles: ['collector'] }));
      await run(settings);
    }
    expect(sent()).toEqual(['firing processor_down:processor-2@host']);
    expect(bodies()[0]).toEqual({
      status: 'firing',
      alert: 'processor_down:processor-2@host',
      rule: 'processor_down',
      severity: 'critical',
      subject: 'processor-2@host',
      message: expect.stringMatching(/^node processor-2 on host \(processor\) has sent no heartbeat for 30 s/),
      since: new Date(killedAt + 30 * S).toISOString(),
      at: new Date(killedAt + 30 * S).toISOString(),
      dashboard_url: 'http://mayday.example/dashboard',
    });
    expect(receiver.received[0].path).toBe('/hook/T0/B0/secret');
    const [record] = await alertState.list();
    expect(record).toMatchObject({ key: 'processor_down:processor-2@host', status: 'firing', firedAt: killedAt + 30 * S });
    expect(record.notice).toBeUndefined();

    // Restarted under the same name with a new pid: the old process is still listed (down), the new one reports.
    now += 10 * S;
    await registry.report(node('processor-2', 44, now));
    expect(await run(settings)).toMatchObject({ firing: 0, transitions: 1, noticesSent: 1 });
    now += 10 * S;
    await registry.report(node('processor-1', 11, now));
    await registry.report(node('processor-2', 44, now));
    await registry.report(node('collector-1', 33, now, { roles: ['collector'] }));
    await run(settings);
    expect(sent()).toEqual(['firing processor_down:processor-2@host', 'resolved processor_down:processor-2@host']);
    expect(bodies()[1]).toMatchObject({ status: 'resolved', reason: 'recovered', subject: 'processor-2@host', message: expect.stringMatching(/^resolved after 1\.\d min|^resolved after \d+ s/) });
  });

  it('a down node removed from the registry (DELETE, or vanished) closes its alert as removed, never as recovered', async () => {
    const settings = settingsOf({ down: { kind: 'node_down' }, failing: { kind: 'failure_rate', threshold: 10 } });
    await registry.report(node('p', 1, now - 60 * S));
    await registry.report(node('q', 2, now - 60 * S));
    await run(settings);
    expect(sent().sort()).toEqual(['firing down:p@host', 'firing down:q@host']);
    await registry.forget('p@host:1');
    // q comes back: its alert recovers; p is gone from the registry: its alert closes, saying so.
    await registry.report(node('q', 2, now));
    now += 10 * S;
    await run(settings);
    const closing = bodies().slice(2);
    expect(closing.map((b) => [b.alert, b.status, b.reason]).sort()).toEqual([
      ['down:p@host', 'resolved', 'removed'],
      ['down:q@host', 'resolved', 'recovered'],
    ]);
    const removed = closing.find((b) => b.alert === 'down:p@host')!;
    expect(removed.message).toMatch(/^closed after \d+ s: p@host was removed from the registry, not recovered \(was: node p on host/);
    expect(removed.message).not.toMatch(/no longer holds/);
  });

  it('a namesake on another host keeps neither the other\'s alert quiet nor its recovery', async () => {
    const settings = settingsOf({ down: { kind: 'node_down' } });
    await registry.report(node('mayday', 1, now - 60 * S, { id: 'mayday@a:1', host: 'a' }));
    await registry.report(node('mayday', 1, now, { id: 'mayday@b:1', host: 'b' }));
    await run(settings);
    expect(sent()).toEqual(['firing down:mayday@a']);
  });

  it('waits `for` before firing, repeats every repeat_interval, and a restarted scheduler sends nothing twice', async () => {
    const settings = settingsOf({ down: { kind: 'node_down', threshold: 20, for: 30_000 } }, { repeat_interval: 60_000 });
    await registry.report(node('p', 1, now));
    const start = now;
    const seen: string[] = [];
    for (let t = 10; t <= 200; t += 10) {
      now = start + t * S;
      // Every fourth evaluation is made by a "restarted scheduler": new store objects on the same file.
      const fresh = t % 40 === 0 ? SqliteAlertState.open(database) : undefined;
      if (fresh) opened.push(fresh);
      const report = await run(settings, fresh ? { ...stores, alertState: fresh } : stores);
      if (report.noticesSent > 0) seen.push(`${t}: ${sent().at(-1)}`);
    }
    // Silent from 20 s, pending until 50 s, firing then, repeated at 110 s and 170 s.
    expect(seen).toEqual(['50: firing down:p@host', '110: firing down:p@host', '170: firing down:p@host']);
    expect(receiver.received).toHaveLength(3);
  });

  it('two schedulers evaluating at once (a claim taken over mid-run) send each notice once', async () => {
    const settings = settingsOf({ down: { kind: 'node_down' } });
    await registry.report(node('p', 1, now - 60 * S));
    const other = { ...stores, alertState: SqliteAlertState.open(database) };
    opened.push(other.alertState);
    await Promise.all([run(settings), run(settings, other), run(settings)]);
    expect(sent()).toEqual(['firing down:p@host']);
    await registry.report(node('p', 1, now));
    await Promise.all([run(settings), run(settings, other)]);
    expect(sent()).toEqual(['firing down:p@host', 'resolved down:p@host']);
  });

  it('keeps a notice the webhook did not take, and delivers it at a later evaluation, once', async () => {
    const settings = settingsOf({ down: { kind: 'node_down' } });
    await registry.report(node('p', 1, now - 60 * S));
    receiver.answer = () => ({ status: 503 });
    expect(await run(settings)).toMatchObject({ firing: 1, noticesSent: 0, noticesFailed: 1 });
    expect(receiver.received).toHaveLength(2); // the POST and its one retry
    const [owed] = await alertState.list();
    expect(owed.notice).toMatchObject({ kind: 'firing', attempts: 1, lastError: expect.stringMatching(/HTTP 503$/) });
    expect(owed.notice!.lastError).not.toMatch(/secret/);

    receiver.answer = () => ({ status: 200 });
    now += retryAfterMs(settings) - S; // before the retry delay: not yet
    await run(settings);
    expect(receiver.received).toHaveLength(2);
    now += S;
    expect(await run(settings)).toMatchObject({ noticesSent: 1 });
    expect(receiver.received).toHaveLength(3);
    expect((await alertState.list())[0].notice).toBeUndefined();
    now += retryAfterMs(settings);
    await run(settings);
    expect(receiver.received).toHaveLength(3);
  });

  it('gives up a notice after a day, and drops one owed to a webhook no longer configured', async () => {
    const settings = settingsOf({ down: { kind: 'node_down' } });
    await registry.report(node('p', 1, now - 60 * S));
    receiver.answer = () => ({ status: 500 });
    await run(settings);
    now += NOTICE_GIVE_UP_MS + S;
    receiver.answer = () => ({ status: 200 });
    const before = receiver.received.length;
    await run({ ...settings, repeatIntervalMs: 0 });
    expect(receiver.received).toHaveLength(before);
    expect((await alertState.list())[0]).toMatchObject({ status: 'firing' });
    expect((await alertState.list())[0].notice).toBeUndefined();

    await registry.report(node('p', 1, now));
    await run({ ...settings, webhookUrls: [] });
    const [resolved] = await alertState.list();
    expect(resolved.status).toBe('resolved');
    expect(resolved.notice).toBeUndefined();
    expect(receiver.received).toHaveLength(before);
  });

  it('watches the oldest waiting crash of the real queue, failed scheduler jobs and processors\' failure rates', async () => {
    const settings = settingsOf(
      {
        stuck: { kind: 'queue_age', threshold: 60 },
        jobs: { kind: 'job_failed', job: ['retention'] },
        failing: { kind: 'failure_rate', threshold: 50, window: 60_000 },
      },
      { format: 'slack' },
    );
    await queue.enqueue('0b1f2a3c-0000-4000-8000-000000240101');
    expect(await jobLedger.claim('retention', 'sched@h:1', now, now + 60_000)).toBe(true);
    await jobLedger.finish({ job: 'retention', owner: 'sched@h:1', startedAt: now, finishedAt: now + 5, outcome: 'failure', error: 'disk full' }, now + 60_000);
    const start = now;
    await registry.report(node('p', 1, now, { stats: { processed: 100, failed: 0 } }));
    await run(settings);
    expect(receiver.received).toHaveLength(1);
    expect((bodies()[0].text as string).split('\n')).toEqual([':warning: *FIRING* [warning] jobs:retention', 'scheduler job retention: its last run failed: disk full', `since ${new Date(start).toISOString()}`, '<http://mayday.example/dashboard|Operations Dashboard>']);

    // 61 s later the crash has waited too long, and p failed 60 of its last 100.
    now = start + 61 * S;
    await registry.report(node('p', 1, now, { stats: { processed: 140, failed: 60 } }));
    await run(settings);
    const heads = bodies().map((b) => (b.text as string).split('\n')[0]);
    expect(heads.slice(1).sort()).toEqual([':warning: *FIRING* [warning] failing:p@host', ':warning: *FIRING* [warning] stuck:standard']);
    expect((await alertState.counters(0)).map((c) => [c.at - start, c.processed, c.failed])).toEqual([
      [0, 100, 0],
      [61 * S, 140, 60],
    ]);

    // The job succeeds and the crash is taken: both resolve. p keeps failing.
    expect(await jobLedger.claim('retention', 'sched@h:1', now + 60_000, now + 120_000)).toBe(true);
    await jobLedger.finish({ job: 'retention', owner: 'sched@h:1', startedAt: now, finishedAt: now + 5, outcome: 'success' }, now + 120_000);
    const item = await queue.take();
    await queue.ack(item!);
    now += 10 * S;
    await registry.report(node('p', 1, now, { stats: { processed: 150, failed: 70 } }));
    await run(settings);
    expect(bodies().slice(3).map((b) => (b.text as string).split('\n')[0]).sort()).toEqual([':white_check_mark: *RESOLVED* jobs:retention', ':white_check_mark: *RESOLVED* stuck:standard']);
    expect((await alertState.list()).map((r) => `${r.key} ${r.status}`)).toEqual(['failing:p@host firing', 'jobs:retention resolved', 'stuck:standard resolved']);
  });

  it('is one of the scheduler\'s jobs, every evaluate_interval, and does nothing until its store and settings are given', async () => {
    const base: JobSettings = { verifyIntervalMs: 60_000, verifyDays: 2, maintenanceIntervalMs: 60_000, retention: { days: 0, protectedDays: 0, products: [], intervalMs: 60_000 } };
    const settings = settingsOf({ down: { kind: 'node_down' } }, { evaluate_interval: 15_000 });
    const jobStores = { registry, queue, jobLedger, alertState } as unknown as Parameters<typeof scheduledJobs>[0];
    const job = scheduledJobs(jobStores, { ...base, alerts: settings }, silent).find((j) => j.name === 'alerts')!;
    expect(job.intervalMs).toBe(15_000);
    expect(job.timeoutMs).toBe(300_000);
    expect(alertsJob(jobStores, { ...base, alerts: { ...settings, rules: [] } }, silent).intervalMs).toBe(3_600_000);
    expect(await alertsJob({ ...jobStores, alertState: undefined }, base, silent).run(new AbortController().signal, {})).toMatch(/not evaluated/);

    await registry.report(node('p', 1, Date.now() - 120 * S));
    expect(await job.run(new AbortController().signal, {})).toBe('1 rules: 1 firing, 0 pending, 1 changes; sent 1 notices');
    expect(sent()).toEqual(['firing down:p@host']);
    expect(await job.run(new AbortController().signal, {})).toBe('1 rules: 1 firing, 0 pending, 0 changes');
  });
});

/** A logger whose lines the test reads. */
function capturingLog(): { log: Logger; lines: () => { level: number; msg: string; [key: string]: unknown }[] } {
  const chunks: string[] = [];
  const log = pino({ level: 'info' }, { write: (chunk: string) => void chunks.push(chunk) });
  return { log, lines: () => chunks.map((c) => JSON.parse(c) as { level: number; msg: string }) };
}

const probes = (ok: Record<string, 0 | 1>): Record<string, number> => Object.fromEntries(Object.entries(ok).flatMap(([name, v]) => [[`probe_${name}_ok`, v], [`probe_${name}_ms`, v ? 2 : 5000]]));

describe('the kinds an operator missed at 3 a.m., on real stores and a real webhook receiver', () => {
  it('dependency_unreachable: one notice naming the nodes once `for` has passed, none while it lasts, one recovery', async () => {
    const settings = settingsOf({ database: { kind: 'dependency_unreachable', for: 30_000, severity: 'critical' } });
    const beat = async (p1: 0 | 1, c1: 0 | 1) => {
      await registry.report(node('processor-1', 11, now, { stats: probes({ crash_index: p1, queue: 1 }) }));
      await registry.report(node('collector-1', 22, now, { roles: ['collector'], stats: probes({ crash_index: c1, queue: 1 }) }));
    };
    await beat(1, 1);
    await run(settings);
    const start = now;
    const seen: string[] = [];
    // processor-1 loses the database at 10 s, collector-1 at 40 s; both get it back at 100 s.
    for (let t = 10; t <= 120; t += 10) {
      now = start + t * S;
      await beat(t >= 10 && t < 100 ? 0 : 1, t >= 40 && t < 100 ? 0 : 1);
      const report = await run(settings);
      if (report.noticesSent > 0) seen.push(`${t}: ${sent().at(-1)}`);
    }
    expect(seen).toEqual(['40: firing database:crash_index', '100: resolved database:crash_index']);
    expect(bodies()[0]).toMatchObject({ severity: 'critical', subject: 'crash_index', message: 'the crash index is unreachable from every running node that probes it (2): collector-1@host, processor-1@host', since: new Date(start + 10 * S).toISOString() });
    expect(bodies()[1]).toMatchObject({ status: 'resolved', reason: 'recovered' });
  });

  it('queue_growing: reads the queue\'s minute points that the web nodes record into the history store', async () => {
    const settings = settingsOf({ backlog: { kind: 'queue_growing', threshold: 3, queue: ['standard'] } });
    // What a web node does each minute: record the real queue's figures.
    const record = async () => opsHistory.record(historyPointsFrom(await registry.nodes(), await queue.stats(), now));
    let id = 0;
    const enqueue = async (n: number) => {
      for (let i = 0; i < n; i++) await queue.enqueue(`0b1f2a3c-0000-4000-8000-${String(++id).padStart(12, '0')}`);
    };
    now = Math.floor(now / 60_000) * 60_000 + 5 * S;
    const seen: string[] = [];
    for (let minute = 0; minute <= 7; minute++) {
      // Growing for minutes 1 to 5, then a processor takes crashes.
      if (minute >= 1 && minute <= 5) await enqueue(2);
      if (minute === 6) for (let i = 0; i < 4; i++) await queue.ack((await queue.take())!);
      await record();
      const report = await run(settings);
      if (report.noticesSent > 0) seen.push(`${minute}: ${sent().at(-1)}`);
      now += 60_000;
    }
    expect(seen).toEqual(['3: firing backlog:standard', '6: resolved backlog:standard']);
    expect(bodies()[0].message).toBe('queue standard has grown at every minute for 3 min, from 0 to 6 waiting');
  });

  it('queue_growing without a history store evaluates the other rules and says once that it cannot', async () => {
    const { log, lines } = capturingLog();
    const settings = settingsOf({ backlog: { kind: 'queue_growing' }, down: { kind: 'node_down' } });
    await registry.report(node('p', 1, now - 60 * S));
    const without = { registry, queue, jobLedger, alertState };
    await runAlerts(without, settings, log, { now: () => now, retryDelayMs: 5 });
    await runAlerts(without, settings, log, { now: () => now, retryDelayMs: 5 });
    expect(sent()).toEqual(['firing down:p@host']);
    expect(lines().filter((l) => /queue_growing rules are not evaluated/.test(l.msg)).map((l) => [l.level, l.rules])).toEqual([[40, ['backlog']]]);
  });

  it('nodes_below: a processor fleet stopped cleanly (gone from the registry, so no node_down) pages once, and recovers once', async () => {
    const settings = settingsOf({ processors: { kind: 'nodes_below', role: ['processor'], threshold: 2, severity: 'critical' }, down: { kind: 'node_down' } });
    await registry.report(node('processor-1', 11, now));
    await registry.report(node('processor-2', 22, now));
    await registry.report(node('web-1', 33, now, { roles: ['web'] }));
    await run(settings);
    expect(receiver.received).toHaveLength(0);
    // Both processors stop cleanly: each removes itself.
    now += 10 * S;
    await registry.forget('processor-1@host:11');
    await registry.forget('processor-2@host:22');
    await registry.report(node('web-1', 33, now, { roles: ['web'] }));
    await run(settings);
    now += 10 * S;
    await registry.report(node('web-1', 33, now, { roles: ['web'] }));
    await run(settings);
    expect(sent()).toEqual(['firing processors:processor']);
    expect(bodies()[0]).toMatchObject({ subject: 'processor', severity: 'critical', message: 'no processor node is running, fewer than 2 (a node stopped cleanly leaves the registry and is not listed)' });
    // One comes back: still below.
    now += 10 * S;
    await registry.report(node('processor-1', 44, now));
    await registry.report(node('web-1', 33, now, { roles: ['web'] }));
    await run(settings);
    expect(receiver.received).toHaveLength(1);
    now += 10 * S;
    await registry.report(node('processor-1', 44, now));
    await registry.report(node('processor-2', 55, now));
    await registry.report(node('web-1', 33, now, { roles: ['web'] }));
    await run(settings);
    expect(sent()).toEqual(['firing processors:processor', 'resolved processors:processor']);
  });

  it('pings heartbeat_url (GET) after every evaluation that succeeded, never after one that failed, and logs that at error', async () => {
    const heartbeat = await Receiver.start();
    try {
      const { log, lines } = capturingLog();
      const settings = settingsOf({ down: { kind: 'node_down' } }, { heartbeat_url: `${heartbeat.url}/ping/0f1e2d3c-uuid` });
      await registry.report(node('p', 1, now));
      await runAlerts(stores, settings, log, { now: () => now });
      expect(heartbeat.received.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /ping/0f1e2d3c-uuid']);
      now += 10 * S;
      await runAlerts(stores, settings, log, { now: () => now });
      expect(heartbeat.received).toHaveLength(2);

      // The monitor answering an error, or not at all, is logged (its host, never the URL) and does not fail the run.
      heartbeat.answer = () => ({ status: 500 });
      await expect(runAlerts(stores, settings, log, { now: () => now })).resolves.toMatchObject({ firing: 0 });
      expect(heartbeat.received).toHaveLength(3);
      const warned = lines().filter((l) => l.msg.startsWith('alerts heartbeat ping failed'));
      expect(warned.map((l) => [l.level, l.error])).toEqual([[40, 'HTTP 500']]);
      expect(JSON.stringify(lines())).not.toMatch(/0f1e2d3c-uuid/);

      // The evaluation fails (its store is gone, as with the database down): no ping, an error logged, the run fails.
      await alertState.close();
      await expect(runAlerts(stores, settings, log, { now: () => now })).rejects.toThrow();
      expect(heartbeat.received).toHaveLength(3);
      const errors = lines().filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0].msg).toMatch(/^alert evaluation failed: no alert can fire or resolve until it succeeds; the heartbeat URL is not pinged/);
    } finally {
      await heartbeat.close();
    }
  });

  it('a heartbeat ping that hangs gives up within its short limit', async () => {
    const heartbeat = await Receiver.start();
    try {
      heartbeat.answer = () => ({ status: 200, delayMs: 3000 });
      const { log, lines } = capturingLog();
      const settings = settingsOf({}, { heartbeat_url: `${heartbeat.url}/ping`, timeout: 200 });
      const started = Date.now();
      await runAlerts(stores, settings, log, { now: () => now });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(heartbeat.received).toHaveLength(1);
      expect(lines().find((l) => l.msg.startsWith('alerts heartbeat ping failed'))?.error).toBe('no answer within 200 ms');
    } finally {
      await heartbeat.close();
    }
  });
});
