import type { FastifyPluginAsync } from 'fastify';
import { parseCrashId } from '../../common/crash-id.js';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';

export interface CrashApiOptions {
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
}

/** Socorro's `/api/ProcessedCrash/` and `/api/RawCrash/`. */
export const crashApiPlugin: FastifyPluginAsync<CrashApiOptions> = async (app, options) => {
  const { rawCrashStore, processedCrashStore } = options;

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
};
