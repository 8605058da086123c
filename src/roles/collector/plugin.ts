import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { createCrashId } from '../../common/crash-id.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import { receiveSubmission, SubmissionRefused, type SubmissionLimits } from './submission.js';

export interface CollectorOptions {
  rawCrashStore: RawCrashStore;
  queue: ProcessingQueue;
  limits: SubmissionLimits;
}

/**
 * The collector role: `POST /submit`. A crash id is answered only after the raw crash is
 * committed to storage and its id is on the queue, so an answered crash is never lost.
 */
export const collectorPlugin: FastifyPluginAsync<CollectorOptions> = async (app: FastifyInstance, options) => {
  // The body is streamed by the handler itself (to disk, with its own limits), so every
  // content type reaches it untouched; refusals then follow Antenna's wording.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.post('/submit', async (request, reply) => {
    const submittedAt = new Date();
    const crashId = createCrashId(submittedAt);
    const writer = await options.rawCrashStore.begin(crashId);
    let received;
    try {
      received = await receiveSubmission(request.headers, request.raw as IncomingMessage, writer, options.limits);
    } catch (error) {
      await writer.abort();
      if (error instanceof SubmissionRefused) {
        request.log.info({ reason: error.reason, detail: error.message }, 'submission refused');
        return reply.code(error.statusCode).type('text/plain').send(`Discarded=${error.reason}\n${error.message}\n`);
      }
      request.log.error({ err: error }, 'storing a submission failed');
      return reply.code(500).type('text/plain').send('Error=storage_failed\n');
    }

    try {
      await writer.commit({
        uuid: crashId,
        submitted_timestamp: submittedAt.toISOString(),
        annotations: received.annotations,
        metadata: {
          collector_notes: received.notes,
          dumps: received.dumps,
          payload: 'multipart',
          payload_compressed: received.compressed,
          user_agent: request.headers['user-agent'] ?? '',
          throttle_result: 'accept',
          throttle_rule: 'accept_everything',
        },
      });
    } catch (error) {
      await writer.abort();
      request.log.error({ err: error, crashId }, 'committing a raw crash failed');
      return reply.code(500).type('text/plain').send('Error=storage_failed\n');
    }

    try {
      await options.queue.enqueue(crashId, 'standard');
    } catch (error) {
      // The raw crash is saved; answering 500 makes the client retry, which at worst
      // stores it twice, never loses it.
      request.log.error({ err: error, crashId }, 'queueing a crash failed');
      return reply.code(500).type('text/plain').send('Error=queue_failed\n');
    }

    request.log.info({ crashId, product: received.annotations.ProductName, dumps: Object.keys(received.dumps) }, 'crash accepted');
    return reply.type('text/plain').send(`CrashID=bp-${crashId}\n`);
  });
};
