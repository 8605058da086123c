/**
 * The Operations Dashboard on the distributed example (a collector, two processors, a web
 * node and a scheduler, each its own process, on one PostgreSQL, RabbitMQ and S3): every
 * component is up, and the collector and both processors show non-zero throughput, while
 * crashes flow; a processor killed with SIGKILL is reported down within the configured
 * threshold while the others stay up; an alert webhook (a receiver in this test) gets
 * exactly one notice, and after the restart exactly one recovery; a processor stopped with
 * SIGTERM deregisters (docs/operations.md: "A node that exits cleanly removes itself") and
 * the webhook hears nothing of it.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deployment, s3Settings, sleep, startDeploymentS3 } from '../support/distributed-deployment.js';
import { runClients } from '../support/crash-clients.js';
import { eventually, PROJECT_ROOT } from '../support/mayday-process.js';
import { pgSkip, pgUrl } from '../adapters/pg-support.js';
import { rabbitSkip, rabbitUrl } from '../support/rabbitmq.js';
import type { LocalS3 } from '../adapters/s3rver-support.js';

const skip = pgSkip || rabbitSkip;
const DOWN_AFTER_S = 6;

interface Component {
  name: string;
  /** The node's identity in problems, alerts and history (`name@host`). */
  key: string;
  status: string;
  stats: Record<string, number>;
}
interface Notice {
  status: 'firing' | 'resolved';
  subject: string;
  rule: string;
}

describe.skipIf(skip !== false)(`the Operations Dashboard on five processes${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let s3: LocalS3;
  let deployment: Deployment;
  let receiver: Server;
  let configDir: string | undefined;
  const notices: Notice[] = [];

  const components = async (): Promise<Component[]> => {
    const response = await fetch(`${deployment.url('web')}/api/ops/components`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { components: Component[] }).components;
  };
  const statusOf = (list: Component[]): Record<string, string> => Object.fromEntries(list.map((c) => [c.name, c.status]));

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        notices.push(JSON.parse(body) as Notice);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    s3 = await startDeploymentS3();
    // The scheduler's file is the example's with an alert rule and the test's webhook added.
    configDir = mkdtempSync(join(tmpdir(), 'mayday-ops-dashboard-'));
    const schedulerFile = join(configDir, 'scheduler.ini');
    writeFileSync(
      schedulerFile,
      `include = ${join(PROJECT_ROOT, 'examples/distributed/scheduler.ini')}\n\n[alerts]\nwebhook_urls = ${hook}\nevaluate_interval = 1s\n\n[alerts.rules.processor_down]\nkind = node_down\nrole = processor\nseverity = critical\n`,
    );
    deployment = await Deployment.start({
      label: 'ops-dashboard',
      postgresUrl: pgUrl,
      rabbitUrl,
      s3: s3Settings(s3),
      env: { MAYDAY_NODE_HEARTBEAT_INTERVAL: '1s', MAYDAY_DASHBOARD_DOWN_AFTER: `${DOWN_AFTER_S}s`, MAYDAY_SCHEDULER_TICK_INTERVAL: '500ms' },
      nodes: [],
      configFiles: { scheduler: schedulerFile },
    });
    // The web node first: it creates the tables the others then find.
    await deployment.startNode('web');
    await Promise.all((['collector', 'processor-1', 'processor-2', 'scheduler'] as const).map((n) => deployment.startNode(n)));
  }, 180_000);

  afterAll(async () => {
    await deployment?.stop();
    await s3?.dispose();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  }, 60_000);

  it('shows every component up with throughput, a killed processor down within the threshold, alerts once each way, and a stopped one gone without an alert', async () => {
    // Crashes flow while the dashboard is read.
    let stop = false;
    const clients = runClients({ collector: deployment.url('collector'), product: 'OpsDashboard', clients: 2, crashesPerClient: 400, until: () => stop, pauseMs: 50 });
    // Rates cover one heartbeat interval (1 s), and RabbitMQ hands crashes to whichever
    // processor asks: a processor may idle for a second. Each component's throughput is
    // therefore required to have been non-zero in some report while the crashes flow, not
    // all in the same one.
    const sawThroughput = new Map<string, number>();
    const throughput: [string, string][] = [
      ['collector', 'collector_accepted_per_second'],
      ['processor-1', 'processed_per_second'],
      ['processor-2', 'processed_per_second'],
    ];
    const busy = await eventually(
      async () => {
        const list = await components();
        const by = new Map(list.map((c) => [c.name, c]));
        for (const [name, stat] of throughput) {
          const rate = by.get(name)?.stats[stat] ?? 0;
          if (by.get(name)?.status === 'up' && rate > 0) sawThroughput.set(name, Math.max(rate, sawThroughput.get(name) ?? 0));
        }
        const serving = (by.get('web')?.stats.web_requests_total ?? 0) > 0;
        return sawThroughput.size === throughput.length && serving ? list : undefined;
      },
      60_000,
      'the collector and both processors with non-zero throughput',
    );
    stop = true;
    await clients.done;
    expect(statusOf(busy)).toEqual({ collector: 'up', 'processor-1': 'up', 'processor-2': 'up', scheduler: 'up', web: 'up' });
    // Problems and alerts name a node by its key; the test takes it from the table rather than guess the host.
    const processor2 = busy.find((c) => c.name === 'processor-2')!.key;
    expect(processor2).toMatch(/^processor-2@./);

    const killedAt = Date.now();
    await deployment.kill('processor-2', 'SIGKILL');
    const down = await eventually(
      async () => {
        const list = await components();
        return statusOf(list)['processor-2'] === 'down' ? list : undefined;
      },
      (DOWN_AFTER_S + 10) * 1000,
      'processor-2 reported down',
    );
    const detectedAfter = (Date.now() - killedAt) / 1000;
    // Its last heartbeat came at most one interval (1 s) before the kill; the page is read every 50 ms.
    expect(detectedAfter).toBeLessThanOrEqual(DOWN_AFTER_S + 2);
    expect(statusOf(down)).toEqual({ collector: 'up', 'processor-1': 'up', 'processor-2': 'down', scheduler: 'up', web: 'up' });
    const overview = (await (await fetch(`${deployment.url('web')}/api/ops/overview`)).json()) as { problems: { kind: string; subject: string }[] };
    expect(overview.problems).toContainEqual(expect.objectContaining({ kind: 'node-down', subject: processor2 }));

    await eventually(async () => (notices.some((n) => n.status === 'firing') ? true : undefined), 20_000, 'the alert notice');
    // The dashboard shows the alert the scheduler fired.
    const firing = (await (await fetch(`${deployment.url('web')}/api/ops/overview`)).json()) as { alerts: { key: string; status: string; severity: string }[] };
    expect(firing.alerts).toEqual([expect.objectContaining({ key: `processor_down:${processor2}`, status: 'firing', severity: 'critical' })]);
    await sleep(4000); // several more evaluations: no second notice
    expect(notices.map((n) => [n.status, n.rule, n.subject])).toEqual([['firing', 'processor_down', processor2]]);

    await deployment.startNode('processor-2');
    await eventually(async () => (statusOf(await components())['processor-2'] === 'up' ? true : undefined), 30_000, 'processor-2 up again');
    await eventually(async () => (notices.some((n) => n.status === 'resolved') ? true : undefined), 20_000, 'the recovery notice');

    // A clean shutdown: processor-1 (which the node_down rule watches) deregisters on
    // SIGTERM, so it leaves the table at once and is never reported down nor alerted on.
    const exitCode = await deployment.kill('processor-1', 'SIGTERM');
    const stoppedAt = Date.now();
    expect(exitCode).toBe(0);
    const afterStop = await eventually(
      async () => {
        const list = await components();
        return list.some((c) => c.name === 'processor-1') ? undefined : list;
      },
      5_000,
      'processor-1 gone from /api/ops/components',
    );
    expect(statusOf(afterStop)).toEqual({ collector: 'up', 'processor-2': 'up', scheduler: 'up', web: 'up' });
    // Had it stayed registered, it would be down DOWN_AFTER_S after its last heartbeat and
    // alerted at the next evaluation (every 1 s): watch past that (which also gives a second
    // recovery notice for processor-2 time to come, were there one).
    while (Date.now() - stoppedAt < (DOWN_AFTER_S + 3) * 1000) {
      expect((await components()).map((c) => c.name)).not.toContain('processor-1');
      await sleep(500);
    }
    expect(notices.map((n) => [n.status, n.rule, n.subject])).toEqual([
      ['firing', 'processor_down', processor2],
      ['resolved', 'processor_down', processor2],
    ]);
    const rates = throughput.map(([name]) => `${name} ${sawThroughput.get(name)!.toFixed(1)}/s`).join(', ');
    process.stdout.write(`[ops-dashboard] peak throughput ${rates}; processor-2 reported down ${detectedAfter.toFixed(1)} s after SIGKILL (threshold ${DOWN_AFTER_S} s)\n`);
  }, 240_000);
});
