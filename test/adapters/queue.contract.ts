import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProcessingQueue, QueueItem } from '../../src/ports/queue.js';

/**
 * The processing queue contract: every adapter (SQLite, RabbitMQ) must pass exactly these
 * tests, so that the collector, the processor and the status pages behave the same on
 * both. A broker pushes messages to a taker asynchronously, so the tests take with a
 * deadline (`takeSoon`, as the processor does with `waitForWork`) and check for absence
 * after a pause (`expectNothing`), never right after an enqueue.
 */

export interface QueueSubject {
  /** Opens an instance on this subject's store (several may be open at once, like processors on several machines). */
  open(): Promise<ProcessingQueue>;
  /**
   * Resolves when `queue` holds `messages` deliveries, for tests of the order across
   * queues: an adapter whose messages are pushed ahead (a broker's prefetch) waits until
   * they have arrived; a pulling adapter resolves at once. `messages` counts every
   * enqueue that put something on the queue since the last take, including one that
   * moved a crash to another queue.
   */
  settle(queue: ProcessingQueue, messages: number): Promise<void>;
  /**
   * Makes `queue`'s taker presumed dead, so that what it took is handed out again: the
   * visibility timeout passing, or its connection dying. `queue` is not used afterwards.
   */
  abandon(queue: ProcessingQueue): Promise<void>;
  /** Closes and removes what the subject created. */
  dispose(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes an item, waiting for one up to `timeoutMs` as the processor's loop does. */
export async function takeSoon(queue: ProcessingQueue, timeoutMs = 5000): Promise<QueueItem | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const item = await queue.take();
    if (item || Date.now() >= deadline) return item;
    await queue.waitForWork(Math.min(50, Math.max(1, deadline - Date.now())));
  }
}

/**
 * Takes an item from whichever of `queues` gets it: a broker delivers a message to one of
 * its consumers, not to a chosen one. Returns the item and the queue that took it.
 */
async function takeFromAny(queues: ProcessingQueue[], timeoutMs = 5000): Promise<{ item: QueueItem; taker: ProcessingQueue; others: ProcessingQueue[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const taker of queues) {
      const item = await taker.take();
      if (item) return { item, taker, others: queues.filter((q) => q !== taker) };
    }
    if (Date.now() >= deadline) throw new Error('nothing to take');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Nothing can be taken, also after a broker has had time to deliver. */
async function expectNothing(queue: ProcessingQueue, pauseMs = 200): Promise<void> {
  await sleep(pauseMs);
  expect(await queue.take()).toBeUndefined();
}

export function queueContract(name: string, create: () => Promise<QueueSubject>, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`processing queue contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let subject: QueueSubject;
    let opened: ProcessingQueue[] = [];
    const open = async (): Promise<ProcessingQueue> => {
      const queue = await subject.open();
      opened.push(queue);
      return queue;
    };
    const standard = async (queue: ProcessingQueue) => (await queue.stats()).find((s) => s.queue === 'standard')!;

    beforeEach(async () => {
      subject = await create();
      opened = [];
    });
    afterEach(async () => {
      for (const queue of opened) await queue.close().catch(() => undefined);
      await subject?.dispose();
    });

    it('hands out priority before standard before reprocessing, oldest first', async () => {
      const queue = await open();
      await queue.enqueue('a', 'reprocessing');
      await queue.enqueue('b', 'standard');
      await queue.enqueue('c', 'standard');
      await queue.enqueue('d', 'priority');
      await subject.settle(queue, 4);
      const order: string[] = [];
      for (let item = await queue.take(); item; item = await queue.take()) order.push(item.crashId);
      expect(order).toEqual(['d', 'b', 'c', 'a']);
    });

    it('moves a waiting crash to the priority queue instead of queueing it twice, keeping its age', async () => {
      const queue = await open();
      await queue.enqueue('b');
      const bEnqueuedAt = (await standard(queue)).oldestEnqueuedAt!;
      await sleep(5);
      await queue.enqueue('a');
      await sleep(5);
      await queue.enqueue('b', 'priority');
      const stats = await queue.stats();
      expect(stats.map((s) => [s.queue, s.waiting])).toEqual([['priority', 1], ['standard', 1], ['reprocessing', 0]]);
      await subject.settle(queue, 3);
      const b = await queue.take();
      expect(b).toMatchObject({ crashId: 'b', queue: 'priority', attempts: 1 });
      expect(b!.enqueuedAt).toBe(bEnqueuedAt); // its first enqueue's, not the promotion's
      expect((await queue.take())?.crashId).toBe('a');
      await expectNothing(queue);
    });

    it('ignores an id already waiting in the same queue, and hands it out once', async () => {
      const queue = await open();
      await queue.enqueue('a');
      await queue.enqueue('a');
      expect((await standard(queue)).waiting).toBe(1);
      const item = await takeSoon(queue);
      expect(item).toMatchObject({ crashId: 'a', attempts: 1 });
      await expectNothing(queue);
      await queue.ack(item!);
    });

    it('keeps every acknowledged enqueue, also when many run at once, for the next instance', async () => {
      const first = await open();
      const ids = Array.from({ length: 200 }, (_, i) => `c${i}`);
      await Promise.all(ids.map((id) => first.enqueue(id)));
      await first.close();
      await expect(first.enqueue('late')).rejects.toThrow(/closed/);
      const second = await open();
      expect((await standard(second)).waiting).toBe(200);
      const taken = new Set<string>();
      for (let item = await takeSoon(second); item; item = await takeSoon(second, 1000)) {
        taken.add(item.crashId);
        await second.ack(item);
      }
      expect([...taken].sort()).toEqual([...ids].sort());
      expect(await standard(second)).toMatchObject({ waiting: 0, inFlight: 0 });
    });

    it('keeps a taken item invisible until acknowledged, and forgets it after', async () => {
      // Both instances open before anything is taken, as processors on two machines.
      const [one, two] = [await open(), await open()];
      expect(await one.has('a')).toBe(false);
      await one.enqueue('a');
      expect(await two.has('a')).toBe(true);
      const { item, taker: queue, others: [other] } = await takeFromAny([one, two]);
      expect(item).toMatchObject({ crashId: 'a', queue: 'standard', attempts: 1 });
      expect(item).not.toHaveProperty('ruleset');
      expect(await queue.take()).toBeUndefined();
      expect(await standard(queue)).toMatchObject({ queue: 'standard', waiting: 0, inFlight: 1 });
      expect(await queue.has('a')).toBe(true);
      await expectNothing(other!);
      await queue.ack(item);
      expect(await standard(queue)).toMatchObject({ waiting: 0, inFlight: 0 });
      expect(await queue.has('a')).toBe(false);
      await expectNothing(queue);
    });

    it('hands an item out again when its taker is presumed dead, and ignores the dead taker\'s acknowledgement', async () => {
      const [one, two] = [await open(), await open()];
      await one.enqueue('a');
      const { item: first, taker: dying, others: [survivor] } = await takeFromAny([one, two]);
      expect(first).toMatchObject({ crashId: 'a', attempts: 1 });
      await subject.abandon(dying);
      if (!survivor) throw new Error('unreachable');
      const second = await takeSoon(survivor, 10_000);
      expect(second).toMatchObject({ crashId: 'a', attempts: 2 });
      expect(second!.lease).not.toBe(first.lease);
      await survivor.ack(first); // stale lease: must not remove the item held by the second taker
      expect(await standard(survivor)).toMatchObject({ waiting: 0, inFlight: 1 });
      expect(await survivor.has('a')).toBe(true);
      await survivor.release(first, 0); // stale too
      await survivor.deadLetter(first, 'stale'); // and this
      expect(await survivor.deadLetters(10)).toEqual([]);
      await survivor.ack(second!);
      expect(await standard(survivor)).toMatchObject({ waiting: 0, inFlight: 0 });
    });

    it('releases an item at once', async () => {
      const queue = await open();
      await queue.enqueue('a', 'reprocessing', { ruleset: 'signature' });
      const first = await takeSoon(queue);
      await queue.release(first!);
      expect((await queue.stats())[2]).toMatchObject({ queue: 'reprocessing', waiting: 1, inFlight: 0 });
      const second = await takeSoon(queue);
      expect(second).toMatchObject({ crashId: 'a', queue: 'reprocessing', attempts: 2, ruleset: 'signature', enqueuedAt: first!.enqueuedAt });
    });

    it('releases an item with a delay', async () => {
      const queue = await open();
      await queue.enqueue('a');
      const released = Date.now();
      await queue.release((await takeSoon(queue))!, 400);
      expect(await standard(queue)).toMatchObject({ waiting: 1, inFlight: 0 });
      await expectNothing(queue, 150);
      const again = await takeSoon(queue);
      expect(Date.now() - released).toBeGreaterThanOrEqual(390);
      expect(again).toMatchObject({ crashId: 'a', attempts: 2 });
    });

    it('moves an item to the dead letters, lists them, and retries one', async () => {
      const queue = await open();
      await queue.enqueue('a', 'reprocessing', { ruleset: 'signature' });
      await queue.enqueue('b');
      const a = await takeSoon(queue);
      const b = await takeSoon(queue);
      const items = new Map([a!, b!].map((item) => [item.crashId, item]));
      const before = Date.now();
      await queue.deadLetter(items.get('a')!, 'boom');
      await queue.release(items.get('b')!);
      expect(await queue.has('a')).toBe(false);
      expect((await queue.stats()).map((s) => [s.queue, s.waiting, s.inFlight])).toEqual([['priority', 0, 0], ['standard', 1, 0], ['reprocessing', 0, 0]]);
      const letters = await queue.deadLetters(10);
      expect(letters).toEqual([{ crashId: 'a', queue: 'reprocessing', attempts: 1, error: 'boom', failedAt: expect.any(Number), ruleset: 'signature' }]);
      expect(letters[0]!.failedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(await queue.retryDeadLetter('nope')).toBe(false);
      expect(await queue.retryDeadLetter('a')).toBe(true);
      expect(await queue.deadLetters(10)).toEqual([]);
      expect(await queue.retryDeadLetter('a')).toBe(false);
      const taken = [await takeSoon(queue), await takeSoon(queue)];
      expect(taken.map((item) => item?.crashId).sort()).toEqual(['a', 'b']);
      expect(taken.find((item) => item?.crashId === 'a')).toMatchObject({ queue: 'reprocessing', ruleset: 'signature', attempts: 1 });
    });

    it('keeps the newest dead letter of a crash per queue, newest first', async () => {
      const queue = await open();
      for (const [id, error] of [['a', 'first'], ['b', 'other'], ['a', 'second']] as const) {
        await queue.enqueue(id);
        const item = await takeSoon(queue);
        expect(item?.crashId).toBe(id);
        await queue.deadLetter(item!, error);
        await sleep(5);
      }
      expect((await queue.deadLetters(10)).map((l) => [l.crashId, l.error])).toEqual([['a', 'second'], ['b', 'other']]);
      expect((await queue.deadLetters(1)).map((l) => l.crashId)).toEqual(['a']);
    });

    it('counts dead letters per queue, shared by every instance', async () => {
      const queue = await open();
      const none = { priority: 0, standard: 0, reprocessing: 0 };
      expect(await queue.deadLetterCounts()).toEqual(none);
      await queue.enqueue('a');
      await queue.enqueue('b');
      await queue.enqueue('c', 'reprocessing');
      const taken = [await takeSoon(queue), await takeSoon(queue), await takeSoon(queue)];
      for (const item of taken) await queue.deadLetter(item!, 'boom');
      // The same crash dead again in its queue is one letter, not two.
      await queue.retryDeadLetter('a');
      const again = await takeSoon(queue);
      expect(again?.crashId).toBe('a');
      await queue.deadLetter(again!, 'boom again');
      expect(await queue.deadLetterCounts()).toEqual({ priority: 0, standard: 2, reprocessing: 1 });
      // Opened now: a broker would share the messages above with it.
      const other = await open();
      expect(await other.deadLetterCounts()).toEqual({ priority: 0, standard: 2, reprocessing: 1 });
      await queue.retryDeadLetter('c');
      expect(await other.deadLetterCounts()).toEqual({ priority: 0, standard: 2, reprocessing: 0 });
    });

    it('counts what this instance enqueued, handed out, acknowledged and dead-lettered, per queue', async () => {
      const queue = await open();
      const zero = { enqueued: 0, taken: 0, acked: 0, deadLettered: 0 };
      expect(queue.counts()).toEqual({ priority: zero, standard: zero, reprocessing: zero });
      await queue.enqueue('a');
      await queue.enqueue('b');
      await queue.enqueue('a'); // already waiting: nothing enqueued
      await queue.enqueue('c', 'reprocessing');
      await subject.settle(queue, 3);
      const first = await takeSoon(queue);
      const second = await takeSoon(queue);
      expect([first?.queue, second?.queue]).toEqual(['standard', 'standard']);
      await queue.ack(first!);
      await queue.ack(first!); // a second acknowledgement removes nothing
      await queue.deadLetter(second!, 'boom');
      expect(queue.counts()).toEqual({
        priority: zero,
        standard: { enqueued: 2, taken: 2, acked: 1, deadLettered: 1 },
        reprocessing: { ...zero, enqueued: 1 },
      });
      // A snapshot does not move with the counters.
      const before = queue.counts();
      const third = await takeSoon(queue);
      expect(third?.queue).toBe('reprocessing');
      expect(before.reprocessing.taken).toBe(0);
      expect(queue.counts().reprocessing.taken).toBe(1);
    });

    it('reports the age of the oldest waiting item', async () => {
      const queue = await open();
      expect(await standard(queue)).toEqual({ queue: 'standard', waiting: 0, inFlight: 0 });
      const before = Date.now();
      await queue.enqueue('a');
      await sleep(5);
      await queue.enqueue('b');
      const oldest = (await standard(queue)).oldestEnqueuedAt!;
      expect(oldest).toBeGreaterThanOrEqual(before);
      expect(oldest).toBeLessThanOrEqual(Date.now());
      const items = [await takeSoon(queue), await takeSoon(queue)];
      expect((await standard(queue)).oldestEnqueuedAt).toBeUndefined();
      expect(items.find((i) => i?.crashId === 'a')?.enqueuedAt).toBe(oldest);
    });

    it('wakes a waiting taker when work arrives, and stops waiting on abort or timeout', async () => {
      const queue = await open();
      let started = Date.now();
      const waiting = queue.waitForWork(10_000);
      setTimeout(() => void queue.enqueue('a'), 50);
      await waiting;
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await takeSoon(queue))?.crashId).toBe('a');
      started = Date.now();
      await queue.waitForWork(100);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      const controller = new AbortController();
      started = Date.now();
      const aborted = queue.waitForWork(10_000, controller.signal);
      setTimeout(() => controller.abort(), 50);
      await aborted;
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('answers its health check while open, and refuses work once closed', async () => {
      const queue = await open();
      await queue.check();
      await queue.close();
      await queue.close(); // twice is harmless
      await expect(queue.enqueue('a')).rejects.toThrow(/closed/);
    });
  });
}
