import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type pg from 'pg';
import { QUEUE_NAMES, type DeadLetter, type ProcessingQueue, type QueueCounts, type QueueItem, type QueueName, type QueueStats } from '../ports/queue.js';
import { QueueCounters } from './queue-counters.js';
import { waitForEvent } from './wait-for-event.js';
import { PgQueueLedger, type LedgerEntry } from './pg-queue-ledger.js';

/**
 * The processing queue on RabbitMQ, for processors on several machines.
 *
 * The broker moves the messages: three durable queues (`<prefix>priority`,
 * `<prefix>standard`, `<prefix>reprocessing`), persistent messages, publisher confirms
 * (an enqueue resolves once the broker has the message on disk, and rejects otherwise so
 * that the collector journals the crash), manual acknowledgements. What a broker cannot
 * answer (is this crash queued, is it already waiting, how many attempts, how old is the
 * oldest waiting crash, which crashes failed for good) is kept in PostgreSQL by
 * `PgQueueLedger`; each message names its ledger row, and a message without a row is
 * dropped when delivered (see there).
 *
 * Taking: each queue has a consumer with `prefetch` unacknowledged messages at most; the
 * deliveries wait in a local buffer and `take` hands out the first of the most urgent
 * queue. So the order priority, standard, reprocessing holds among the messages this
 * node holds: a priority crash published a moment ago may still be on its way while a
 * standard one is handed out.
 *
 * Visibility timeout: a message stays unacknowledged at the broker while its crash is
 * processed. When the processor dies (killed, or its connection lost), the broker hands
 * the message out again at once, to this node once reconnected or to another; the new
 * taker takes the ledger row over (attempts + 1, new lease) and the dead taker's late
 * acknowledgement is a no-op. A processor that is alive but stuck is bounded only by the
 * broker's `consumer_timeout` (RabbitMQ's default: 30 minutes), after which the broker
 * closes the channel and everything it held is handed out again: `queue.visibility_timeout`
 * cannot be shorter than that here, set `consumer_timeout` on the broker to match it.
 *
 * Delays: `release(item, delayMs)` publishes the message to `<prefix><queue>.delay` with a
 * per-message expiration; expired messages are dead-lettered back to the main queue.
 * RabbitMQ expires messages at the head of a queue only, so a short delay behind a longer
 * one comes back late (never early): the processor's retry delays are short and bounded.
 *
 * Connections: one for publishing, one for consuming (only on nodes that process: see
 * `consume`; RabbitMQ throttles a publishing
 * connection under memory pressure; deliveries and acknowledgements must not wait
 * behind it). Each reconnects with exponential backoff when lost. While disconnected,
 * `enqueue` rejects at once, `take` finds nothing, `check` fails; deliveries buffered but
 * not handed out are dropped (the broker hands them out again), and settling an item
 * taken before the loss only updates the ledger (its message was handed out again).
 */

export interface RabbitMqQueueOptions {
  /** AMQP URL of the broker, e.g. amqp://user:password@host:5672/vhost. */
  url: string;
  /** Prefix of the queue names, so that several deployments can share a broker. Default "mayday.". */
  prefix?: string;
  /** Unacknowledged messages a consumer holds at most, per queue. Default 16. */
  prefetch?: number;
  /** The ledger's database: a connection string (its own pool) or a shared pool (whose search_path decides the schema). */
  pg: string | pg.Pool;
  /** The ledger's schema, with a connection string. */
  schema?: string;
  poolSize?: number;
  statementTimeoutMs?: number;
  /** How long a publish may wait for the broker's confirm before it fails. Default 10 s. */
  publishTimeoutMs?: number;
  /** How long a connection attempt may take. Default 5 s. */
  connectTimeoutMs?: number;
  /** Reconnection backoff: the first delay, doubled after each failure up to the last. Default 100 ms to 30 s. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * Entries committed to the ledger whose publish was never confirmed (their enqueuer died
   * in between) are published again after this long. Default 60 s; it must exceed
   * `publishTimeoutMs` by far, or entries being published are published twice.
   */
  republishAfterMs?: number;
  /**
   * Whether this node takes crashes (default true). A node without the processor role must
   * say false: a consumer takes up to `prefetch` messages per queue at once, and a
   * collector, web or scheduler node would hold them unacknowledged, never processed, until
   * it stopped (found by the five-process example: each processor stalled after a few
   * crashes while the other nodes sat on the rest). Without it `take` finds nothing.
   */
  consume?: boolean;
  /** Shown in the broker's connection list (with " publish" or " consume" appended). Default "mayday". */
  connectionName?: string;
  /** Told when a connection is established or lost (for the node's log). */
  onConnectionChange?: (event: { link: LinkName; connected: boolean; error?: Error }) => void;
}

type LinkName = 'publish' | 'consume';

const DEFAULTS = {
  prefix: 'mayday.',
  prefetch: 16,
  publishTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  republishAfterMs: 60_000,
};

/** Stale entries republished per ledger transaction. */
const REPUBLISH_BATCH = 500;

/** What a message carries: its ledger row, and the rest for people reading the broker's queues. */
interface MessageBody {
  entry: string;
  crashId: string;
  queue: QueueName;
  ruleset?: string;
  enqueuedAt: number;
}

/** One consuming channel's life: its deliveries can be settled only while it lives. */
interface ConsumerSession {
  channel: Channel;
  alive: boolean;
}

interface Delivery {
  session: ConsumerSession;
  message: ConsumeMessage;
  entry: string;
}

/**
 * The broker cannot be used now (not connected, or it did not confirm a message in time):
 * the work is to be tried again later, and an HTTP request asking for it answered 503.
 */
export class BrokerUnavailable extends Error {
  override readonly name = 'BrokerUnavailable';
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * One connection to the broker and what `setup` builds on it (channels, consumers),
 * re-established with exponential backoff whenever it is lost. `setup` receives `lost`,
 * to call when something on the connection fails without closing it (a channel closed by
 * the broker, a consumer cancelled): the connection is then dropped and rebuilt.
 */
class BrokerLink<T> {
  private model: ChannelModel | undefined;
  private value: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempting: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  lastError: Error | undefined;

  constructor(
    private readonly name: LinkName,
    private readonly options: {
      url: string;
      connectionName: string;
      connectTimeoutMs: number;
      initialDelayMs: number;
      maxDelayMs: number;
      setup: (model: ChannelModel, lost: (error: Error) => void) => Promise<T>;
      /** The channel of what `setup` built: closed before its connection, so that the acknowledgements sent on it are processed first. */
      channelOf: (value: T) => Channel;
      onChange: (connected: boolean, error?: Error) => void;
    },
  ) {}

  /** What `setup` built, while connected. */
  current(): T | undefined {
    return this.value;
  }

  /** The first attempt: resolves when it succeeded or failed (later attempts follow on their own). */
  start(): Promise<void> {
    this.attempting = this.attempt();
    return this.attempting;
  }

  private async attempt(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    let model: ChannelModel | undefined;
    let dead = false;
    const lost = (error: Error): void => {
      if (dead) return;
      dead = true;
      this.lastError = error;
      if (model && this.model === model) {
        this.model = undefined;
        this.value = undefined;
        this.options.onChange(false, error);
      }
      model?.close().catch(() => undefined);
      this.schedule();
    };
    try {
      model = await connect(this.options.url, {
        timeout: this.options.connectTimeoutMs,
        clientProperties: { connection_name: `${this.options.connectionName} ${this.name}` },
      });
      // An 'error' event is followed by 'close'; without a listener it would end the process.
      model.on('error', (error: Error) => (this.lastError = error));
      model.on('close', (error?: Error) => lost(error ?? new Error(`the ${this.name} connection to RabbitMQ closed`)));
      if (this.closed) {
        dead = true;
        await model.close().catch(() => undefined);
        return;
      }
      const value = await this.options.setup(model, lost);
      // The connection may have died while its setup's last reply was being read.
      if (dead) return;
      if (this.closed) {
        dead = true;
        await model.close().catch(() => undefined);
        return;
      }
      this.model = model;
      this.value = value;
      this.failures = 0;
      this.lastError = undefined;
      this.options.onChange(true);
    } catch (error) {
      lost(asError(error));
    }
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const base = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** this.failures);
    this.failures++;
    // Jitter, so that the nodes of a cluster do not all reconnect in the same instant.
    const delay = base * (0.8 + Math.random() * 0.4);
    this.timer = setTimeout(() => {
      this.attempting = this.attempt();
    }, delay);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const model = this.model;
    const value = this.value;
    this.model = undefined;
    this.value = undefined;
    await this.attempting?.catch(() => undefined);
    // The broker runs each channel apart from its connection: a connection closed at once
    // may drop acknowledgements its channel had not processed yet.
    if (value !== undefined) await this.options.channelOf(value).close().catch(() => undefined);
    await model?.close().catch(() => undefined);
  }
}

export class RabbitMqQueue implements ProcessingQueue {
  private readonly events = new EventEmitter();
  private readonly counters = new QueueCounters();
  private readonly names: Record<QueueName, { main: string; delay: string }>;
  private readonly buffer: Record<QueueName, Delivery[]> = { priority: [], standard: [], reprocessing: [] };
  /** Deliveries handed out, by lease, until settled. */
  private readonly held = new Map<string, Delivery>();
  /** Ids of published messages the broker returned as unroutable (the confirm follows the return). */
  private readonly returned = new Set<string>();
  private readonly publishLink: BrokerLink<ConfirmChannel>;
  private readonly consumeLink: BrokerLink<ConsumerSession>;
  private readonly settings: typeof DEFAULTS;
  private deliveries = 0;
  private deliveriesSeenByTake = 0;
  private sweepRun: Promise<number> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private consumes = true;
  lastSweepError: Error | undefined;

  private constructor(
    private readonly ledger: PgQueueLedger,
    options: RabbitMqQueueOptions,
  ) {
    this.events.setMaxListeners(0);
    this.settings = settingsOf(options);
    const { prefix } = this.settings;
    this.names = {
      priority: { main: `${prefix}priority`, delay: `${prefix}priority.delay` },
      standard: { main: `${prefix}standard`, delay: `${prefix}standard.delay` },
      reprocessing: { main: `${prefix}reprocessing`, delay: `${prefix}reprocessing.delay` },
    };
    const link = {
      url: options.url,
      connectionName: options.connectionName ?? 'mayday',
      connectTimeoutMs: this.settings.connectTimeoutMs,
      initialDelayMs: this.settings.initialDelayMs,
      maxDelayMs: this.settings.maxDelayMs,
    };
    const report = options.onConnectionChange;
    this.publishLink = new BrokerLink('publish', {
      ...link,
      setup: (model, lost) => this.setUpPublishing(model, lost),
      channelOf: (channel) => channel,
      onChange: (connected, error) => {
        report?.({ link: 'publish', connected, ...(error ? { error } : {}) });
        if (connected) this.sweepInBackground();
      },
    });
    this.consumeLink = new BrokerLink('consume', {
      ...link,
      setup: (model, lost) => this.setUpConsuming(model, lost),
      channelOf: (session) => session.channel,
      onChange: (connected, error) => report?.({ link: 'consume', connected, ...(error ? { error } : {}) }),
    });
  }

  /**
   * Migrates the ledger and makes a first connection attempt. A broker that does not
   * answer does not fail the start: the node keeps trying in the background (the collector
   * journals crashes meanwhile) and `check` reports it.
   */
  static async open(options: RabbitMqQueueOptions): Promise<RabbitMqQueue> {
    settingsOf(options); // refuses bad options before anything is opened
    const ledger = await PgQueueLedger.open({
      pg: options.pg,
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
    });
    const queue = new RabbitMqQueue(ledger, options);
    queue.consumes = options.consume !== false;
    await Promise.all([queue.publishLink.start(), ...(options.consume === false ? [] : [queue.consumeLink.start()])]);
    queue.sweepTimer = setInterval(() => queue.sweepInBackground(), Math.max(1000, queue.settings.republishAfterMs / 2));
    queue.sweepTimer.unref();
    return queue;
  }

  /** Deliveries held locally and not yet handed out. */
  prefetched(): number {
    let n = 0;
    for (const queue of QUEUE_NAMES) for (const d of this.buffer[queue]) if (d.session.alive) n++;
    return n;
  }

  /** Whether both connections are up. */
  connected(): boolean {
    return this.publishLink.current() !== undefined && this.consumeLink.current() !== undefined;
  }

  private async declareQueues(channel: Channel): Promise<void> {
    for (const queue of QUEUE_NAMES) {
      const { main, delay } = this.names[queue];
      await channel.assertQueue(main, { durable: true });
      await channel.assertQueue(delay, { durable: true, deadLetterExchange: '', deadLetterRoutingKey: main });
    }
  }

  private async setUpPublishing(model: ChannelModel, lost: (error: Error) => void): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    // The broker's reason comes as 'error', then 'close'. A connection that dies closes its
    // channels first: waiting a turn lets the connection report its own reason.
    let channelError: Error | undefined;
    channel.on('error', (error: Error) => (channelError = error));
    channel.on('close', () => setImmediate(() => lost(channelError ?? new Error('the RabbitMQ publishing channel closed'))));
    channel.on('return', (message: { properties: { messageId?: string } }) => {
      if (message.properties.messageId) this.returned.add(message.properties.messageId);
    });
    await this.declareQueues(channel);
    return channel;
  }

  private async setUpConsuming(model: ChannelModel, lost: (error: Error) => void): Promise<ConsumerSession> {
    const channel = await model.createChannel();
    const session: ConsumerSession = { channel, alive: true };
    const end = (error: Error): void => {
      if (!session.alive) return;
      session.alive = false;
      // The broker hands these out again once the channel is gone.
      for (const queue of QUEUE_NAMES) this.buffer[queue] = this.buffer[queue].filter((d) => d.session !== session);
      // As for publishing: a dying connection reports its reason after closing its channels.
      setImmediate(() => lost(error));
    };
    let channelError: Error | undefined;
    channel.on('error', (error: Error) => (channelError = error));
    channel.on('close', () => end(channelError ?? new Error('the RabbitMQ consuming channel closed')));
    model.on('close', (error?: Error) => end(error ?? new Error('the RabbitMQ consuming connection closed')));
    await this.declareQueues(channel);
    // Per consumer: a buffer full of bulk reprocessing never keeps a priority crash out.
    await channel.prefetch(this.settings.prefetch, false);
    for (const queue of QUEUE_NAMES) {
      await channel.consume(
        this.names[queue].main,
        (message) => {
          // null: the broker cancelled the consumer (its queue was deleted); reconnecting declares it again.
          if (message === null) return end(new Error(`RabbitMQ cancelled the consumer of ${this.names[queue].main}`));
          this.delivered(queue, session, message);
        },
        { noAck: false },
      );
    }
    return session;
  }

  private delivered(queue: QueueName, session: ConsumerSession, message: ConsumeMessage): void {
    if (!session.alive) return;
    const entry = entryOfMessage(message.content);
    // Not one of ours: nothing could ever take it, and leaving it would hold a prefetch slot.
    if (entry === undefined) return this.settle({ session, message, entry: '' }, 'ack');
    this.buffer[queue].push({ session, message, entry });
    this.deliveries++;
    this.events.emit('work');
  }

  /** Acknowledges or requeues a delivery at the broker, if its channel still lives (else the broker has requeued it already). */
  private settle(delivery: Delivery | undefined, how: 'ack' | 'requeue'): void {
    if (!delivery?.session.alive) return;
    try {
      if (how === 'ack') delivery.session.channel.ack(delivery.message);
      else delivery.session.channel.nack(delivery.message, false, true);
    } catch {
      // The channel closed in the meantime: the broker hands the message out again.
    }
  }

  private disconnected(link: { lastError: Error | undefined }, name: LinkName): Error {
    return new BrokerUnavailable(`RabbitMQ is not connected (${name === 'publish' ? 'publishing' : 'consuming'})${link.lastError ? `: ${link.lastError.message}` : ''}`);
  }

  /**
   * Publishes an entry's message and resolves when the broker confirmed it: persisted,
   * and routed to its queue (`mandatory`; an unroutable message is confirmed too, after
   * being returned, which is why returns are tracked).
   */
  private publish(channel: ConfirmChannel, queueName: string, entry: LedgerEntry, expirationMs?: number): Promise<void> {
    const messageId = `${entry.entry}/${randomUUID()}`;
    const body: MessageBody = { entry: entry.entry, crashId: entry.crashId, queue: entry.queue, ...(entry.ruleset !== undefined ? { ruleset: entry.ruleset } : {}), enqueuedAt: entry.enqueuedAt };
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.returned.delete(messageId);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => finish(new BrokerUnavailable(`RabbitMQ did not confirm the message for ${entry.crashId} within ${this.settings.publishTimeoutMs} ms`)), this.settings.publishTimeoutMs);
      try {
        channel.sendToQueue(
          queueName,
          Buffer.from(JSON.stringify(body)),
          {
            persistent: true,
            mandatory: true,
            contentType: 'application/json',
            messageId,
            timestamp: Math.floor(Date.now() / 1000),
            ...(expirationMs !== undefined ? { expiration: String(Math.max(0, Math.round(expirationMs))) } : {}),
          },
          (error: unknown) => {
            if (error) return finish(new BrokerUnavailable(`RabbitMQ refused the message for ${entry.crashId}: ${asError(error).message}`));
            if (this.returned.has(messageId)) {
              // Its queue is missing (deleted behind our back): a new connection declares it again.
              channel.close().catch(() => undefined);
              return finish(new Error(`RabbitMQ could not route the message for ${entry.crashId}: queue ${queueName} does not exist`));
            }
            finish();
          },
        );
      } catch (error) {
        finish(asError(error));
      }
    });
  }

  async enqueue(crashId: string, queue: QueueName = 'standard', options: { ruleset?: string } = {}): Promise<void> {
    if (this.closing) throw new Error('the queue is closed');
    // Refused at once while disconnected: the collector journals the crash instead of waiting.
    if (!this.publishLink.current()) throw this.disconnected(this.publishLink, 'publish');
    const entry = await this.ledger.insert(crashId, queue, options.ruleset, Date.now());
    if (!entry) return; // already waiting in that queue
    try {
      const channel = this.publishLink.current();
      if (!channel) throw this.disconnected(this.publishLink, 'publish');
      await this.publish(channel, this.names[queue].main, entry);
    } catch (error) {
      // A message that got through after all is an orphan, dropped when delivered. Should
      // the row outlive this (database unreachable), it is published again later.
      await this.ledger.remove(entry.entry).catch(() => undefined);
      throw error;
    }
    this.counters.add(entry.queue, 'enqueued');
    // Durable already; a failure here only means the row may be published once more.
    await this.ledger.published([entry]).catch(() => undefined);
  }

  async take(): Promise<QueueItem | undefined> {
    this.deliveriesSeenByTake = this.deliveries;
    if (this.closing) return undefined;
    for (const queue of QUEUE_NAMES) {
      const buffer = this.buffer[queue];
      while (buffer.length > 0) {
        const delivery = buffer.shift()!;
        if (!delivery.session.alive) continue;
        const lease = randomUUID();
        let row;
        try {
          row = await this.ledger.take(delivery.entry, lease, Date.now());
        } catch (error) {
          if (delivery.session.alive) buffer.unshift(delivery);
          throw error;
        }
        if (!row) {
          this.settle(delivery, 'ack'); // an orphan: its entry was acknowledged, dead-lettered or superseded
          continue;
        }
        this.held.set(lease, delivery);
        this.counters.add(row.queue, 'taken');
        return { crashId: row.crashId, queue: row.queue, attempts: row.attempts, enqueuedAt: row.enqueuedAt, lease, ...(row.ruleset !== undefined ? { ruleset: row.ruleset } : {}) };
      }
    }
    return undefined;
  }

  async has(crashId: string): Promise<boolean> {
    return this.ledger.has(crashId);
  }

  /**
   * The ledger row goes first: a message acknowledged while its row stayed would leave a
   * crash "queued" forever, whereas a row removed while its message stayed only leaves an
   * orphan. When the ledger fails, the message is requeued: processed again, not lost.
   */
  async ack(item: QueueItem): Promise<void> {
    const delivery = this.held.get(item.lease);
    this.held.delete(item.lease);
    try {
      if (await this.ledger.ack(item.lease)) this.counters.add(item.queue, 'acked');
    } catch (error) {
      this.settle(delivery, 'requeue');
      throw error;
    }
    // Also when the lease was stale: the current taker holds a message of its own.
    this.settle(delivery, 'ack');
  }

  async release(item: QueueItem, delayMs = 0): Promise<void> {
    const delivery = this.held.get(item.lease);
    this.held.delete(item.lease);
    let result;
    try {
      result = await this.ledger.release(item.lease);
    } catch (error) {
      this.settle(delivery, 'requeue');
      throw error;
    }
    if (result.outcome !== 'released') return this.settle(delivery, 'ack');
    // Without a live delivery the broker is handing the message out again already.
    if (delayMs <= 0 || !delivery?.session.alive) return this.settle(delivery, 'requeue');
    try {
      const channel = this.publishLink.current();
      if (!channel) throw this.disconnected(this.publishLink, 'publish');
      await this.publish(channel, this.names[item.queue].delay, result.entry, delayMs);
    } catch (error) {
      this.settle(delivery, 'requeue');
      throw new Error(`could not delay ${item.crashId} (${asError(error).message}); it was released at once`);
    }
    this.settle(delivery, 'ack');
  }

  async deadLetter(item: QueueItem, error: string): Promise<void> {
    const delivery = this.held.get(item.lease);
    this.held.delete(item.lease);
    try {
      if (await this.ledger.deadLetter(item.lease, error, Date.now())) this.counters.add(item.queue, 'deadLettered');
    } catch (failure) {
      this.settle(delivery, 'requeue');
      throw failure;
    }
    this.settle(delivery, 'ack');
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.ledger.deadLetters(limit);
  }

  async deadLetterCounts(): Promise<Record<QueueName, number>> {
    return this.ledger.deadLetterCounts();
  }

  counts(): Record<QueueName, QueueCounts> {
    return this.counters.snapshot();
  }

  async retryDeadLetter(crashId: string): Promise<boolean> {
    if (this.closing) throw new Error('the queue is closed');
    const channel = this.publishLink.current();
    if (!channel) throw this.disconnected(this.publishLink, 'publish');
    const { found, entries, restore } = await this.ledger.reviveDeadLetters(crashId, Date.now());
    try {
      await Promise.all(entries.map((entry) => this.publish(channel, this.names[entry.queue].main, entry)));
    } catch (error) {
      await restore().catch(() => undefined);
      throw error;
    }
    for (const entry of entries) this.counters.add(entry.queue, 'enqueued');
    await this.ledger.published(entries).catch(() => undefined);
    return found;
  }

  /**
   * Resolves on the next delivery, or at once if one arrived since the last `take` began
   * (it may have missed it). Deliveries still buffered because `take` failed do not count:
   * a failing ledger must not turn the processor's wait into a busy loop.
   */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closing || this.deliveries !== this.deliveriesSeenByTake) return Promise.resolve();
    return waitForEvent(this.events, 'work', timeoutMs, signal);
  }

  /** From the ledger: the broker's counts include orphans and delayed messages, and count messages prefetched but not handed out as unacknowledged. */
  async stats(): Promise<QueueStats[]> {
    return this.ledger.stats();
  }

  async check(): Promise<void> {
    if (this.closing) throw new Error('the queue is closed');
    await this.ledger.check();
    const channel = this.publishLink.current();
    if (!channel) throw this.disconnected(this.publishLink, 'publish');
    if (this.consumes && !this.consumeLink.current()) throw this.disconnected(this.consumeLink, 'consume');
    await channel.checkQueue(this.names.standard.main);
  }

  /**
   * Publishes the ledger's entries whose enqueuer died before the broker confirmed them;
   * resolves with how many. Runs at every connection and periodically; a call made while
   * one runs waits for it and runs again, so that it covers the rows committed before it.
   */
  sweep(): Promise<number> {
    const run = (this.sweepRun ?? Promise.resolve(0)).then(() => this.sweepOnce());
    this.sweepRun = run;
    void run.finally(() => {
      if (this.sweepRun === run) this.sweepRun = undefined;
    });
    return run;
  }

  /** A sweep unless one runs: periodic sweeps slower than their interval must not pile up. */
  private sweepInBackground(): void {
    if (!this.sweepRun) void this.sweep();
  }

  private async sweepOnce(): Promise<number> {
    if (this.closing) return 0;
    let total = 0;
    try {
      for (;;) {
        const channel = this.publishLink.current();
        if (!channel) break;
        const n = await this.ledger.republishStale(this.settings.republishAfterMs, REPUBLISH_BATCH, async (entries) => {
          await Promise.all(entries.map((entry) => this.publish(channel, this.names[entry.queue].main, entry)));
        });
        total += n;
        if (n < REPUBLISH_BATCH) break;
      }
      this.lastSweepError = undefined;
    } catch (error) {
      this.lastSweepError = asError(error); // tried again at the next sweep
    }
    return total;
  }

  /** Closing the consuming connection gives everything buffered or held back to the broker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweepTimer);
      this.events.emit('work');
      await this.sweepRun?.catch(() => undefined);
      await Promise.all([this.publishLink.close(), this.consumeLink.close()]);
      for (const queue of QUEUE_NAMES) this.buffer[queue] = [];
      this.held.clear();
      await this.ledger.close();
    })();
    return this.closing;
  }
}

function settingsOf(options: RabbitMqQueueOptions): typeof DEFAULTS {
  const settings = {
    prefix: options.prefix ?? DEFAULTS.prefix,
    prefetch: options.prefetch ?? DEFAULTS.prefetch,
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    initialDelayMs: options.reconnect?.initialDelayMs ?? DEFAULTS.initialDelayMs,
    maxDelayMs: options.reconnect?.maxDelayMs ?? DEFAULTS.maxDelayMs,
    republishAfterMs: options.republishAfterMs ?? DEFAULTS.republishAfterMs,
  };
  // An entry being published must never look stranded: it would be published twice.
  if (settings.republishAfterMs < 2 * settings.publishTimeoutMs) {
    throw new Error(`republishAfterMs (${settings.republishAfterMs}) must be at least twice publishTimeoutMs (${settings.publishTimeoutMs})`);
  }
  if (!Number.isInteger(settings.prefetch) || settings.prefetch < 1) throw new Error(`prefetch must be a positive integer, not ${settings.prefetch}`);
  return settings;
}

function entryOfMessage(content: Buffer): string | undefined {
  try {
    const body = JSON.parse(content.toString('utf8')) as Partial<MessageBody> | null;
    return body && typeof body.entry === 'string' && body.entry.length > 0 ? body.entry : undefined;
  } catch {
    return undefined;
  }
}
