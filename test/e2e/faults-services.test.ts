/**
 * Faults of the services under the distributed deployment, on real processes (no mocks):
 * RabbitMQ stopped and started again during a load, PostgreSQL stopped and started again
 * (the S3 server's outage is in faults-processes.test.ts, which shares its deployment).
 * Each test counts crashes submitted, crash ids given to the clients, and crashes indexed
 * (Super Search's uuid facet on the web node): every id given is indexed exactly once,
 * and nothing else is, with no person acting.
 *
 * The broker and the database stopped here are the test's own (`own-rabbitmq.ts`,
 * `own-postgres.ts`): the machine's serve the other test files running meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalS3 } from '../adapters/s3rver-support.js';
import { pgSkip, pgUrl } from '../adapters/pg-support.js';
import { runClients } from '../support/crash-clients.js';
import { Deployment, expectAllIndexedOnce, expectAllRunning, reportFigures, s3Settings, sleep, startDeploymentS3 } from '../support/distributed-deployment.js';
import { eventually } from '../support/mayday-process.js';
import { ownPostgresUnavailable, startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { ownRabbitMqUnavailable, startOwnRabbitMq, type OwnRabbitMq } from '../support/own-rabbitmq.js';
import { rabbitSkip, rabbitUrl } from '../support/rabbitmq.js';

/** Why a test that needs its own server of a kind cannot run, or false: set, the URL variable says the service is there to be tested. */
function ownSkip(variable: string, unavailable: string | false): string | false {
  return process.env[variable] === undefined && unavailable !== false ? `${unavailable} and ${variable} is not set` : false;
}

const rabbitFaultSkip = pgSkip || ownSkip('MAYDAY_TEST_RABBITMQ_URL', ownRabbitMqUnavailable());
const postgresFaultSkip = rabbitSkip || ownSkip('MAYDAY_TEST_POSTGRES_URL', ownPostgresUnavailable());

describe.skipIf(rabbitFaultSkip !== false)(`distributed faults: RabbitMQ stopped and started again during a load${rabbitFaultSkip ? ` (skipped: ${rabbitFaultSkip})` : ''}`, () => {
  let broker: OwnRabbitMq | undefined;
  let s3: LocalS3 | undefined;
  let deployment: Deployment | undefined;

  beforeAll(async () => {
    // One after the other: whatever started is in a variable for afterAll to stop.
    broker = await startOwnRabbitMq('fault');
    s3 = await startDeploymentS3();
    deployment = await Deployment.start({ label: 'faults-rabbitmq', postgresUrl: pgUrl, rabbitUrl: broker.url, s3: s3Settings(s3) });
  }, 180_000);

  afterAll(async () => {
    await deployment?.stop();
    await broker?.dispose();
    await s3?.dispose();
  }, 90_000);

  it('collectors keep accepting (journalled, queued later), processors reconnect, nothing is lost', async () => {
    const started = Date.now();
    const product = 'FaultRabbitMq';
    const d = deployment!;
    // Three clients, a crash every 300 ms each, from before the outage until a while after it.
    let enough = false;
    const clients = runClients({ collector: d.url('collector'), product, clients: 3, crashesPerClient: 100, pauseMs: 300, until: () => enough });
    await eventually(async () => (clients.accepted() >= 6 ? true : undefined), 60_000, 'the first crashes acknowledged');
    const stoppedAt = Date.now();
    // The broker closes every connection and stops listening (its node stays up, so that
    // it comes back in seconds rather than the quarter of a minute a node takes to boot).
    await broker!.stopApp();
    const downAt = Date.now();
    await sleep(2000);
    const restartAt = Date.now();
    await broker!.startApp();
    const restartedAt = Date.now();
    const acceptedBack = clients.accepted();
    await eventually(async () => (clients.accepted() >= acceptedBack + 6 ? true : undefined), 60_000, 'crashes acknowledged after the restart');
    enough = true;
    const result = await clients.done;

    // The collector answered while the broker was down, and told no client to retry.
    const duringOutage = result.attempts.filter((a) => a.outcome === 'accepted' && a.startedAt > downAt && a.endedAt < restartAt);
    expect(duringOutage.length, 'crashes acknowledged while the broker was down').toBeGreaterThan(0);
    expect(result.attempts.filter((a) => a.outcome !== 'accepted')).toEqual([]);
    const figures = await expectAllIndexedOnce(d, product, [result], 90_000);
    expect(d.lastLog('collector')).toMatch(/queued crashes that had been stored while the queue failed/);
    // Both processors consume again: each processes some of the crashes submitted now.
    const processedBy = async (): Promise<Map<string, number>> => {
      const status = (await (await fetch(`${d.url('web')}/status/json`)).json()) as { processors: { id: string; processed: number }[] };
      return new Map(status.processors.map((p) => [p.id.split('@')[0]!, p.processed]));
    };
    const counted = await processedBy();
    const after = await runClients({ collector: d.url('collector'), product, clients: 2, crashesPerClient: 8 }).done;
    await expectAllIndexedOnce(d, product, [result, after], 60_000);
    // A processor may still be in its reconnection backoff (up to 30 s) when the other has
    // taken every crash above: crashes keep coming, a few at a time, until both take some.
    await eventually(
      async () => {
        const now = await processedBy();
        if (['processor-1', 'processor-2'].every((p) => (now.get(p) ?? 0) > (counted.get(p) ?? 0))) return true;
        await runClients({ collector: d.url('collector'), product, clients: 1, crashesPerClient: 2 }).done;
        await new Promise((resolve) => setTimeout(resolve, 500));
        return undefined;
      },
      60_000,
      'both processors processing crashes submitted after the restart',
    );
    expectAllRunning(d);

    reportFigures('RabbitMQ stopped', {
      ...figures,
      acknowledgedDuringOutage: duringOutage.length,
      outageSeconds: (restartedAt - stoppedAt) / 1000,
      seconds: (Date.now() - started) / 1000,
    });
  }, 240_000);
});

describe.skipIf(postgresFaultSkip !== false)(`distributed faults: PostgreSQL stopped and started again${postgresFaultSkip ? ` (skipped: ${postgresFaultSkip})` : ''}`, () => {
  let database: OwnPostgres | undefined;
  let s3: LocalS3 | undefined;
  let deployment: Deployment | undefined;

  beforeAll(async () => {
    database = await startOwnPostgres();
    s3 = await startDeploymentS3();
    deployment = await Deployment.start({ label: 'faults-postgres', postgresUrl: database.url, rabbitUrl, s3: s3Settings(s3) });
  }, 180_000);

  afterAll(async () => {
    await deployment?.stop();
    await database?.dispose();
    await s3?.dispose();
  }, 90_000);

  it('processors retry, the web node answers 503 meanwhile, and everything recovers on its own', async () => {
    const started = Date.now();
    const product = 'FaultPostgres';
    const d = deployment!;
    const web = d.url('web');
    // Three clients, a crash every 200 ms each, from before the outage until a while after it.
    let enough = false;
    const clients = runClients({ collector: d.url('collector'), product, clients: 3, crashesPerClient: 100, pauseMs: 200, until: () => enough });
    await eventually(async () => (clients.accepted() >= 6 ? true : undefined), 60_000, 'the first crashes acknowledged');
    const stoppedAt = Date.now();
    await database!.stop('fast');
    const downAt = Date.now();

    // The web node says the database is unavailable, at once, instead of a 500 or a hang.
    for (const path of [`/api/SuperSearch/?product=${product}&_facets=uuid`, '/', `/topcrashers/?product=${product}`]) {
      const asked = Date.now();
      const response = await fetch(`${web}${path}`, { signal: AbortSignal.timeout(30_000) });
      const text = await response.text();
      expect(response.status, `${path}: ${text.slice(0, 500)}`).toBe(503);
      expect(text, path).toMatch(/database is unavailable/i);
      expect(response.headers.get('retry-after'), path).toMatch(/^\d+$/);
      expect(Date.now() - asked, `${path} answered within 10 s`).toBeLessThan(10_000);
    }
    const heartbeat = await fetch(`${web}/__heartbeat__`, { signal: AbortSignal.timeout(30_000) });
    expect(heartbeat.status).toBe(500);
    await sleep(1000);
    const restartAt = Date.now();
    await database!.start();
    const restartedAt = Date.now();
    const acceptedBack = clients.accepted();
    await eventually(async () => (clients.accepted() >= acceptedBack + 6 ? true : undefined), 60_000, 'crashes acknowledged after the restart');
    enough = true;
    const result = await clients.done;

    // The collector took crashes all along (it journals them: the queue's ledger is in PostgreSQL).
    expect(result.attempts.filter((a) => a.outcome !== 'accepted')).toEqual([]);
    const duringOutage = result.attempts.filter((a) => a.outcome === 'accepted' && a.startedAt > downAt && a.endedAt < restartAt);
    expect(duringOutage.length, 'crashes acknowledged while the database was down').toBeGreaterThan(0);
    const figures = await expectAllIndexedOnce(d, product, [result], 90_000);
    const search = await fetch(`${web}/api/SuperSearch/?product=${product}`);
    expect(search.status).toBe(200);
    expectAllRunning(d);
    const processors = d.lastLog('processor-1') + d.lastLog('processor-2');

    reportFigures('PostgreSQL stopped', {
      ...figures,
      acknowledgedDuringOutage: duringOutage.length,
      processorRetries: (processors.match(/"taking from the queue failed"|"processing failed; will retry"/g) ?? []).length,
      outageSeconds: (restartedAt - stoppedAt) / 1000,
      seconds: (Date.now() - started) / 1000,
    });
  }, 240_000);
});
