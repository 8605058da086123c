import type { FastifyPluginAsync } from 'fastify';
import { parseCrashId } from '../../common/crash-id.js';
import type { CrashIndex } from '../../ports/crash-index.js';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import { crashListPage, notFoundPage, pendingPage, reportPage } from './pages.js';

export interface WebOptions {
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
  crashIndex: CrashIndex;
  queue: ProcessingQueue;
}

const PAGE_SIZE = 50;

/** The web role: Crash Stats pages and the Socorro-compatible API. */
export const webPlugin: FastifyPluginAsync<WebOptions> = async (app, options) => {
  const { rawCrashStore, processedCrashStore, crashIndex, queue } = options;

  app.get<{ Querystring: { crash_id?: string } }>('/api/ProcessedCrash/', async (request, reply) => {
    const crashId = parseCrashId(request.query.crash_id ?? '');
    if (!crashId) return reply.code(400).send({ error: 'crash_id is missing or is not a crash id' });
    const crash = await processedCrashStore.get(crashId);
    if (!crash) {
      const known = await rawCrashStore.get(crashId);
      return reply.code(404).send({ error: known ? 'crash is not processed yet' : 'crash not found', crash_id: crashId, pending: Boolean(known) });
    }
    return crash;
  });

  app.get<{ Querystring: { crash_id?: string; format?: string } }>('/api/RawCrash/', async (request, reply) => {
    const crashId = parseCrashId(request.query.crash_id ?? '');
    if (!crashId) return reply.code(400).send({ error: 'crash_id is missing or is not a crash id' });
    const format = request.query.format ?? 'meta';
    if (format !== 'meta') return reply.code(400).send({ error: `format=${format} is not supported; use format=meta` });
    const raw = await rawCrashStore.get(crashId);
    if (!raw) return reply.code(404).send({ error: 'crash not found', crash_id: crashId });
    // Socorro's shape: annotations at the top level beside `metadata`.
    return { ...raw.annotations, metadata: raw.metadata, submitted_timestamp: raw.submitted_timestamp, uuid: raw.uuid };
  });

  app.get<{ Querystring: { offset?: string } }>('/', async (request, reply) => {
    const offset = Math.max(0, Number.parseInt(request.query.offset ?? '0', 10) || 0);
    const [crashes, total] = await Promise.all([crashIndex.latest({ limit: PAGE_SIZE, offset }), crashIndex.count()]);
    return reply.type('text/html; charset=utf-8').send(crashListPage(crashes, total, offset, PAGE_SIZE));
  });

  app.get<{ Params: { id: string } }>('/report/index/:id', async (request, reply) => {
    const crashId = parseCrashId(request.params.id);
    reply.type('text/html; charset=utf-8');
    if (!crashId) return reply.code(400).send(notFoundPage(`"${request.params.id}" is not a crash id.`));
    const [processed, raw] = await Promise.all([processedCrashStore.get(crashId), rawCrashStore.get(crashId)]);
    if (processed) return reply.send(reportPage(processed, raw));
    if (!raw) return reply.code(404).send(notFoundPage(`No crash ${crashId} here.`));
    // A person is waiting for this one: move it ahead of the standard queue.
    await queue.enqueue(crashId, 'priority');
    return reply.send(pendingPage(crashId, raw));
  });
};
