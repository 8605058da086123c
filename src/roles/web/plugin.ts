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

/** The web role's Crash Stats pages (the API is in `crash-api.ts`, `search-api.ts`, ...). */
export const webPlugin: FastifyPluginAsync<WebOptions> = async (app, options) => {
  const { rawCrashStore, processedCrashStore, crashIndex, queue } = options;

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
