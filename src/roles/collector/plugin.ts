import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { PendingCrashes } from '../../ports/pending-crashes.js';
import type { FieldCatalog } from '../../schema/field-catalog.js';
import { receiveSubmission, StorageFailed, type SubmissionLimits } from './submission.js';
import { SubmissionRefused } from './refusal.js';
import { Throttler, type ThrottleConfig } from './throttler.js';
import { CollectorMetrics } from './metrics.js';
import { PendingSweeper } from './sweeper.js';
import { withAccess } from '../../auth/route-access.js';

export { SubmissionRefused } from './refusal.js';
export type { SubmissionLimits } from './submission.js';

export interface CollectorOptions {
  rawCrashStore: RawCrashStore;
  queue: ProcessingQueue;
  limits: SubmissionLimits;
  /** Where crashes stored during a queue failure wait for the sweeper. */
  pending: PendingCrashes;
  /** How often the sweeper runs (it also runs once when the plugin starts). */
  sweepIntervalMs: number;
  throttle?: ThrottleConfig;
  /** The node's metrics; a private set is made when absent. */
  metrics?: CollectorMetrics;
  /**
   * Most submissions received at once; more are answered 503 with Retry-After before
   * their body is read, so slow clients cannot take every slot. Absent for no limit.
   */
  maxInFlight?: number;
  /** The node's fields: the annotations of protected declared fields are listed as protected too. */
  fields?: FieldCatalog;
}

/** What a client told to come back (503) waits; Crashpad and Breakpad retry on their own schedule anyway. */
const BUSY_RETRY_AFTER_SECONDS = 10;

const ACCEPT_EVERYTHING: ThrottleConfig = { products: [], honourThrottleable: true, rules: [] };

/**
 * The collector role: `POST /submit`, Breakpad/Crashpad's protocol, in Antenna's manner.
 * `CrashID=bp-<id>` is answered only once the raw crash is committed and its id queued,
 * or, when the queue fails, durably recorded as pending (the sweeper queues it later), so
 * an answered crash is never lost.
 */
export const collectorPlugin: FastifyPluginAsync<CollectorOptions> = async (app: FastifyInstance, options) => {
  const throttler = new Throttler(options.throttle ?? ACCEPT_EVERYTHING);
  const metrics = options.metrics ?? new CollectorMetrics();
  const sweeper = new PendingSweeper({
    pending: options.pending,
    queue: options.queue,
    intervalMs: options.sweepIntervalMs,
    log: app.log.child({ role: 'collector' }),
    onQueued: (n) => metrics.pendingQueued.inc(n),
  });
  await sweeper.sweep();
  sweeper.start();
  app.addHook('onClose', async () => sweeper.stop());

  // The body is streamed by the handler itself (to disk, with its own limits), so every
  // content type reaches it untouched; refusals then follow Antenna's wording.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  const refuse = (reply: FastifyReply, error: SubmissionRefused, bodyUnread: boolean): FastifyReply => {
    metrics.refused(error.reason);
    // A refused body may be partly unread: the connection is closed after the answer
    // rather than reading the rest of a (possibly huge) body.
    if (bodyUnread || error.statusCode === 408 || error.statusCode === 413) reply.header('connection', 'close');
    return reply.code(error.statusCode).type('text/plain').send(`Discarded=${error.reason}\n${error.message}\n`);
  };

  let inFlight = 0;
  app.post('/submit', withAccess('public'), async (request, reply) => {
    const submittedAt = new Date();
    metrics.receivedOne();
    if (options.maxInFlight !== undefined && inFlight >= options.maxInFlight) {
      metrics.refused('too_busy');
      request.log.info({ inFlight }, 'submission turned away: too many in flight');
      if (!request.raw.readableEnded) request.raw.resume();
      return reply.code(503).header('retry-after', String(BUSY_RETRY_AFTER_SECONDS)).header('connection', 'close').type('text/plain').send('Error=too_busy\n');
    }
    inFlight++;
    metrics.inFlight.inc();
    try {
      let result;
      try {
        result = await receiveSubmission(
          { headers: request.headers, body: request.raw, submittedAt },
          { store: options.rawCrashStore, throttler, limits: options.limits, onBytes: (n) => metrics.addBytes(n), fields: options.fields },
        );
      } catch (error) {
        if (error instanceof SubmissionRefused) {
          request.log.info({ reason: error.reason, detail: error.message }, 'submission refused');
          const unread = !request.raw.readableEnded;
          if (unread) request.raw.resume();
          return refuse(reply, error, unread);
        }
        metrics.error('storage');
        request.log.error({ err: error instanceof StorageFailed ? error.cause : error }, 'storing a submission failed');
        if (!request.raw.readableEnded) request.raw.resume();
        return reply.code(500).header('connection', 'close').type('text/plain').send('Error=storage_failed\n');
      }

      if (result.outcome === 'rejected') {
        metrics.outcome('reject', result.decision.rule);
        request.log.info({ rule: result.decision.rule }, 'crash rejected by the throttler');
        return reply.type('text/plain').send(`Discarded=${result.decision.rule}\n`);
      }

      const { crash, decision } = result;
      const crashId = crash.uuid;
      if (decision.result === 'accept') {
        try {
          await options.queue.enqueue(crashId, 'standard');
        } catch (error) {
          metrics.error('queue');
          request.log.warn({ err: error, crashId }, 'queueing a crash failed; recording it as pending');
          try {
            await options.pending.add({ crashId, queue: 'standard' });
          } catch (journalError) {
            // Stored but neither queued nor journalled: the client must retry (a duplicate
            // at worst), since nothing would ever queue this copy.
            request.log.error({ err: journalError, crashId }, 'recording a pending crash failed');
            return reply.code(500).type('text/plain').send('Error=queue_failed\n');
          }
        }
      }
      metrics.saveSeconds.observe((performance.now() - result.bodyEndedAt) / 1000);
      metrics.outcome(decision.result, decision.rule);
      request.log.info({ crashId, throttle: decision, product: crash.annotations.ProductName, dumps: Object.keys(crash.metadata.dumps) }, 'crash stored');
      return reply.type('text/plain').send(`CrashID=bp-${crashId}\n`);
    } finally {
      inFlight--;
      metrics.inFlight.dec();
    }
  });
};
