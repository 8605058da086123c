import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { RabbitMqQueue, type RabbitMqQueueOptions } from '../../src/adapters/rabbitmq-queue.js';
import { QUEUE_NAMES, type QueueItem } from '../../src/ports/queue.js';
import { queueContract, takeSoon } from './queue.contract.js';
import { pgSkip, pgUrl } from './pg-support.js';
import { rabbitSkip, rabbitUrl } from '../support/rabbitmq.js';

/**
 * The processing queue on RabbitMQ, with its ledger in PostgreSQL. With
 * MAYDAY_TEST_RABBITMQ_URL and MAYDAY_TEST_POSTGRES_URL set (CI sets them), the servers
 * must answer: a connection failure fails the tests. Without them, servers on the default
 * local addresses are used if they answer, else the suite is skipped. Every test uses
 * queues and a schema of its own, deleted at its end.
 */
// The servers are found (or the suite skipped, saying why) as every back-end test finds them.
const skip = [rabbitSkip, pgSkip].filter((reason) => reason !== false).join('; ') || false;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** A prefix and a schema of one test's own, and their removal. */
class Sandbox {
  readonly id = randomBytes(6).toString('hex');
  readonly prefix = `mayday_test_${this.id}.`;
  readonly schema = `mayday_test_${this.id}`;
  private readonly opened: RabbitMqQueue[] = [];

  options(overrides: Partial<RabbitMqQueueOptions> = {}): RabbitMqQueueOptions {
    return { url: rabbitUrl, prefix: this.prefix, pg: pgUrl, schema: this.schema, connectionName: this.prefix, prefetch: 8, ...overrides };
  }

  async open(overrides: Partial<RabbitMqQueueOptions> = {}): Promise<RabbitMqQueue> {
    const queue = await RabbitMqQueue.open(this.options(overrides));
    this.opened.push(queue);
    return queue;
  }

  queueNames(): string[] {
    return QUEUE_NAMES.flatMap((q) => [`${this.prefix}${q}`, `${this.prefix}${q}.delay`]);
  }

  /** Runs `work` on a channel of a connection of its own, closed after. */
  async withChannel<T>(work: (channel: import('amqplib').Channel) => Promise<T>): Promise<T> {
    const model = await connect(rabbitUrl);
    model.on('error', () => undefined);
    try {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      return await work(channel);
    } finally {
      await model.close().catch(() => undefined);
    }
  }

  async sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      await client.query(`SET search_path = ${this.schema}`);
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async closeQueues(): Promise<void> {
    for (const queue of this.opened) await queue.close().catch(() => undefined);
  }

  /** Removes the queues and the schema; each even when the other cannot be (a server down). */
  async dispose(): Promise<void> {
    await this.closeQueues();
    const results = await Promise.allSettled([
      this.withChannel(async (channel) => {
        for (const name of this.queueNames()) await channel.deleteQueue(name);
      }),
      (async () => {
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
        } finally {
          await client.end();
        }
      })(),
    ]);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  }
}

queueContract(
  'RabbitMQ',
  async () => {
    const sandbox = new Sandbox();
    return {
      open: () => sandbox.open(),
      settle: async (queue, messages) => {
        if (!(queue instanceof RabbitMqQueue)) throw new Error('not a RabbitMQ queue');
        await until(() => queue.prefetched() >= messages, `${messages} messages were delivered`);
      },
      // A processor gone: its connection closes and the broker hands its messages out again.
      abandon: (queue) => queue.close(),
      dispose: () => sandbox.dispose(),
    };
  },
  skip,
);

/**
 * A TCP proxy between the queue and the broker, to cut connections the way a network
 * failure does (both ends see the socket die, with no AMQP close) and to refuse new ones
 * for a while, without touching the broker.
 */
async function startProxy(): Promise<{ url: string; cut(): void; refuse(refusing: boolean): void; close(): Promise<void> }> {
  const target = new URL(rabbitUrl);
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = net.connect(Number(target.port || 5672), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(rabbitUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    refuse: (value) => {
      refusing = value;
    },
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

const execFileAsync = promisify(execFile);

/** Whether `rabbitmqctl` can reach the broker of these tests (same machine, enough rights). */
async function rabbitmqctlWorks(): Promise<boolean> {
  if (skip !== false || !['127.0.0.1', 'localhost'].includes(new URL(rabbitUrl).hostname)) return false;
  try {
    await execFileAsync('rabbitmqctl', ['list_connections', 'pid', '-q'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}
const haveRabbitmqctl = await rabbitmqctlWorks();

describe.skipIf(skip !== false)(`RabbitMQ processing queue${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let sandbox: Sandbox;
  const cleanups: (() => Promise<void>)[] = [];
  const fresh = (): Sandbox => (sandbox = new Sandbox());
  afterEach(async () => {
    // The queues first: a queue left open would reconnect through a proxy being closed.
    await sandbox?.closeQueues();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await sandbox?.dispose();
  });

  it('hands the crash of a processor killed mid-item to another instance, with the attempt counted', async () => {
    fresh();
    const modulePath = pathToFileURL(resolvePath('src/adapters/rabbitmq-queue.ts')).href;
    // A real processor process: enqueues, takes, reports what it took, and is killed holding it.
    const script = `
      import { RabbitMqQueue } from ${JSON.stringify(modulePath)};
      const queue = await RabbitMqQueue.open(${JSON.stringify(sandbox.options())});
      await queue.enqueue('killed');
      let item;
      while (!(item = await queue.take())) await queue.waitForWork(50);
      process.stdout.write(JSON.stringify(item) + '\\n');
      setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(async () => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const first = await new Promise<QueueItem>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(JSON.parse(out) as QueueItem);
      });
      child.on('exit', (code) => reject(new Error(`the processor exited (${code}) before taking: ${stderr}`)));
    });
    expect(first).toMatchObject({ crashId: 'killed', attempts: 1 });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const survivor = await sandbox.open();
    const second = await takeSoon(survivor, 10_000);
    expect(second).toMatchObject({ crashId: 'killed', attempts: 2, enqueuedAt: first.enqueuedAt });
    await survivor.ack(first); // the dead processor's lease
    expect((await survivor.stats())[1]).toMatchObject({ waiting: 0, inFlight: 1 });
    await survivor.ack(second!);
    expect((await survivor.stats())[1]).toMatchObject({ waiting: 0, inFlight: 0 });
    expect(await survivor.has('killed')).toBe(false);
  });

  // The five-process example stalled: collector, web and scheduler nodes consumed too, each
  // holding up to `prefetch` messages per queue that it would never process.
  it('does not consume on a node that only publishes, so every crash reaches a processor', async () => {
    fresh();
    const publisher = await sandbox.open({ consume: false, prefetch: 4 });
    const processor = await sandbox.open({ prefetch: 4 });
    const ids = Array.from({ length: 20 }, (_, i) => `only-processors-${i}`);
    for (const id of ids) await publisher.enqueue(id);
    expect(await publisher.take()).toBeUndefined();
    await publisher.check(); // no consuming connection is not a fault here
    const taken: string[] = [];
    for (const _ of ids) {
      const item = await takeSoon(processor);
      if (!item) break;
      taken.push(item.crashId);
      await processor.ack(item);
    }
    expect(taken.sort()).toEqual([...ids].sort());
    const consumers = await sandbox.withChannel(async (channel) => (await channel.checkQueue(`${sandbox.prefix}standard`)).consumerCount);
    expect(consumers).toBe(1);
  });

  it('declares durable queues and publishes persistent messages', async () => {
    fresh();
    const queue = await sandbox.open();
    await queue.enqueue('durable', 'reprocessing', { ruleset: 'signature' });
    await queue.close(); // its consumer gives the message back
    await sandbox.withChannel(async (channel) => {
      const message = await channel.get(`${sandbox.prefix}reprocessing`, { noAck: false });
      if (message === false) throw new Error('the message is not on its queue');
      expect(message.properties.deliveryMode).toBe(2);
      expect(JSON.parse(message.content.toString())).toMatchObject({ crashId: 'durable', queue: 'reprocessing', ruleset: 'signature', entry: expect.any(String) });
      channel.nack(message, false, true);
    });
    // Redeclaring with other properties is refused: the broker has them as declared.
    for (const [name, options] of [
      [`${sandbox.prefix}standard`, { durable: false }],
      [`${sandbox.prefix}standard.delay`, { durable: true }],
    ] as const) {
      await expect(sandbox.withChannel((channel) => channel.assertQueue(name, options))).rejects.toThrow(/PRECONDITION_FAILED/);
    }
  });

  it('refuses an enqueue the broker did not take, leaving nothing queued', async () => {
    fresh();
    // Slow reconnection, so that nothing declares the deleted queue again before the enqueue.
    const queue = await sandbox.open({ reconnect: { initialDelayMs: 3000 } });
    await sandbox.withChannel((channel) => channel.deleteQueue(`${sandbox.prefix}standard`));
    await expect(queue.enqueue('lost')).rejects.toThrow(/does not exist|not connected/);
    expect(await queue.has('lost')).toBe(false);
    expect((await queue.stats())[1]).toMatchObject({ waiting: 0, inFlight: 0 });
    // Reconnecting declares the queue again.
    await until(() => queue.connected(), 'the queue reconnected', 15_000);
    await queue.enqueue('found');
    expect((await takeSoon(queue))?.crashId).toBe('found');
  });

  it('refuses work at once while the broker is unreachable, and connects when it answers', async () => {
    fresh();
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    proxy.refuse(true);
    const started = Date.now();
    const queue = await sandbox.open({ url: proxy.url, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    expect(queue.connected()).toBe(false);
    let at = Date.now();
    await expect(queue.enqueue('a')).rejects.toThrow(/not connected/);
    expect(Date.now() - at).toBeLessThan(500);
    expect(await queue.has('a')).toBe(false);
    expect(await queue.take()).toBeUndefined();
    await expect(queue.check()).rejects.toThrow(/not connected/);
    expect(Date.now() - started).toBeLessThan(10_000);
    proxy.refuse(false);
    await until(() => queue.connected(), 'the queue connected');
    await queue.check();
    await queue.enqueue('a');
    expect((await takeSoon(queue))?.crashId).toBe('a');
    at = Date.now();
    await queue.close();
    expect(Date.now() - at).toBeLessThan(2000);
  });

  it('reconnects after its connections are cut, gets back what it held, and ignores its stale acknowledgement', async () => {
    fresh();
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    const events: string[] = [];
    const queue = await sandbox.open({
      url: proxy.url,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      onConnectionChange: (event) => events.push(`${event.link} ${event.connected ? 'up' : 'down'}`),
    });
    expect(queue.connected()).toBe(true);
    await queue.enqueue('held');
    const first = await takeSoon(queue);
    expect(first).toMatchObject({ crashId: 'held', attempts: 1 });

    proxy.refuse(true);
    proxy.cut();
    await until(() => !queue.connected(), 'the loss was noticed');
    await expect(queue.enqueue('meanwhile')).rejects.toThrow(/not connected/);
    expect(await queue.take()).toBeUndefined();
    proxy.refuse(false);
    await until(() => queue.connected(), 'the queue reconnected');
    expect([...events].sort()).toEqual(['consume down', 'consume up', 'consume up', 'publish down', 'publish up', 'publish up']);

    const second = await takeSoon(queue, 10_000);
    expect(second).toMatchObject({ crashId: 'held', attempts: 2 });
    // Its delivery belonged to the lost channel: acknowledging it on the new one would make
    // the broker close that channel (unknown delivery tag).
    await queue.ack(first!);
    expect((await queue.stats())[1]).toMatchObject({ waiting: 0, inFlight: 1 });
    await queue.ack(second!);
    await queue.enqueue('after');
    const after = await takeSoon(queue);
    expect(after).toMatchObject({ crashId: 'after', attempts: 1 });
    await queue.ack(after!);
    await sleep(200);
    expect(queue.connected()).toBe(true);
    expect(events).toHaveLength(6); // no channel was closed by the broker since
    expect((await queue.stats())[1]).toMatchObject({ waiting: 0, inFlight: 0 });
  });

  it.skipIf(!haveRabbitmqctl)(`reconnects after the broker closes its connections${haveRabbitmqctl ? '' : ' (skipped: rabbitmqctl cannot reach the broker)'}`, async () => {
    fresh();
    const losses: string[] = [];
    const queue = await sandbox.open({
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      onConnectionChange: (event) => void (event.error && losses.push(`${event.link}: ${event.error.message}`)),
    });
    await queue.enqueue('forced');
    const first = await takeSoon(queue);
    const { stdout } = await execFileAsync('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'], { timeout: 20_000 });
    const pids = stdout
      .split('\n')
      .filter((line) => line.includes(sandbox.prefix))
      .map((line) => line.split('\t')[0]!);
    expect(pids).toHaveLength(2);
    for (const pid of pids) await execFileAsync('rabbitmqctl', ['close_connection', pid, 'test: forced close'], { timeout: 20_000 });
    await until(() => !queue.connected() || queue.prefetched() > 0, 'the loss was noticed');
    await until(() => queue.connected(), 'the queue reconnected');
    // The broker's reason is what is reported, not the channels' closing that precedes it.
    expect(losses.sort()).toEqual([expect.stringMatching(/^consume: .*CONNECTION.FORCED - test: forced close/), expect.stringMatching(/^publish: .*CONNECTION.FORCED/)]);
    const second = await takeSoon(queue, 10_000);
    expect(second).toMatchObject({ crashId: 'forced', attempts: 2 });
    await queue.ack(first!);
    await queue.ack(second!);
    await queue.enqueue('after');
    expect((await takeSoon(queue))?.crashId).toBe('after');
  });

  it('publishes again an entry whose enqueuer died before the broker confirmed it, and only such', async () => {
    fresh();
    const queue = await sandbox.open();
    // As an enqueuer killed between its ledger commit and its publish leaves them: one long ago, one just now (maybe still publishing).
    await sandbox.sql(`INSERT INTO queue_entries (entry, queue, crash_id, enqueued_at, created_at) VALUES ('e-old', 'standard', 'stranded', 1, now() - interval '1 hour'), ('e-new', 'standard', 'in-flight', 2, now())`);
    expect(await queue.has('stranded')).toBe(true);
    // The sweep at connection may have run before the rows were written: this one follows them.
    await queue.sweep();
    const item = await takeSoon(queue);
    expect(item).toMatchObject({ crashId: 'stranded', attempts: 1, enqueuedAt: 1 });
    await sleep(200);
    expect(await queue.take()).toBeUndefined();
    expect(await sandbox.sql(`SELECT entry FROM queue_entries WHERE NOT published`)).toEqual([{ entry: 'e-new' }]);
  });

  it('drops messages that have no ledger entry, or are not its own', async () => {
    fresh();
    const queue = await sandbox.open();
    await sandbox.withChannel(async (channel) => {
      // In this order: once the orphan has arrived, the garbage before it has been handled.
      channel.sendToQueue(`${sandbox.prefix}priority`, Buffer.from('not json'));
      channel.sendToQueue(`${sandbox.prefix}priority`, Buffer.from(JSON.stringify({ entry: 'gone', crashId: 'x', queue: 'priority', enqueuedAt: 1 })));
      await channel.checkQueue(`${sandbox.prefix}priority`);
    });
    await until(() => queue.prefetched() === 1, 'the orphan was delivered'); // the garbage one is dropped on delivery
    expect(await queue.take()).toBeUndefined();
    expect(queue.prefetched()).toBe(0);
    await queue.close();
    const { messageCount } = await sandbox.withChannel((channel) => channel.checkQueue(`${sandbox.prefix}priority`));
    expect(messageCount).toBe(0); // acknowledged, not given back
  });

  it('queues a crash again while it is being processed, and the released first entry gives way', async () => {
    fresh();
    const queue = await sandbox.open();
    await queue.enqueue('busy', 'reprocessing');
    const first = await takeSoon(queue);
    await queue.enqueue('busy', 'reprocessing', { ruleset: 'signature' });
    expect((await queue.stats())[2]).toMatchObject({ waiting: 1, inFlight: 1 });
    await queue.release(first!, 1000);
    expect((await queue.stats())[2]).toMatchObject({ waiting: 1, inFlight: 0 });
    const second = await takeSoon(queue);
    expect(second).toMatchObject({ crashId: 'busy', attempts: 1, ruleset: 'signature' });
    await queue.ack(second!);
    await sleep(300);
    expect(await queue.take()).toBeUndefined();
    expect(await queue.has('busy')).toBe(false);
  });

  it('delays a released item on its delay queue', async () => {
    fresh();
    const queue = await sandbox.open();
    await queue.enqueue('later', 'priority');
    await queue.release((await takeSoon(queue))!, 1500);
    const { messageCount } = await sandbox.withChannel((channel) => channel.checkQueue(`${sandbox.prefix}priority.delay`));
    expect(messageCount).toBe(1);
    const item = await takeSoon(queue, 5000);
    expect(item).toMatchObject({ crashId: 'later', queue: 'priority', attempts: 2 });
  });
});
