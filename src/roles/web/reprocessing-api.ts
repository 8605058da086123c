import type { FastifyPluginAsync } from 'fastify';
import { parseCrashId } from '../../common/crash-id.js';
import { requirePermission } from '../../auth/request-auth.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';

export interface ReprocessingApiOptions {
  rawCrashStore: RawCrashStore;
  queue: ProcessingQueue;
  rulesets: readonly string[];
}

/** Values of a form or JSON field that may be sent once or repeated. */
function values(field: unknown): string[] {
  if (field === undefined || field === null) return [];
  return (Array.isArray(field) ? field : [field]).map(String);
}

/**
 * Socorro's `POST /api/Reprocessing/` (`crash_ids`, one or many; answers `true`), with
 * Mayday's `ruleset` parameter, and the processor's dead letters: `GET /api/DeadLetters/`
 * and `POST /api/DeadLetters/` (`crash_id`) to retry one. All need the `reprocess`
 * permission.
 */
export const reprocessingApiPlugin: FastifyPluginAsync<ReprocessingApiOptions> = async (app, options) => {
  // Socorro's clients post forms (`requests.post(url, data={...})`).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const form: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(body as string)) {
      const existing = form[key];
      form[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    done(null, form);
  });

  app.post<{ Body: Record<string, unknown> | undefined }>('/api/Reprocessing/', { preHandler: requirePermission('reprocess') }, async (request, reply) => {
    const body = request.body ?? {};
    const given = values(body.crash_ids);
    if (given.length === 0) return reply.code(400).send({ error: 'crash_ids is required' });
    if (given.length > 10_000) return reply.code(413).send({ error: 'at most 10000 crash_ids per request' });
    const ruleset = values(body.ruleset)[0] ?? 'default';
    if (!options.rulesets.includes(ruleset)) return reply.code(400).send({ error: `unknown ruleset "${ruleset}" (known: ${options.rulesets.join(', ')})` });
    const ids: string[] = [];
    for (const raw of given) {
      const id = parseCrashId(raw);
      if (!id) return reply.code(400).send({ error: `"${raw}" is not a crash id` });
      ids.push(id);
    }
    const missing: string[] = [];
    for (const id of ids) if (!(await options.rawCrashStore.get(id))) missing.push(id);
    if (missing.length > 0) return reply.code(404).send({ error: 'no such crash', crash_ids: missing });
    await Promise.all(ids.map((id) => options.queue.enqueue(id, 'reprocessing', { ruleset })));
    request.log.info({ count: ids.length, ruleset, user: request.principal?.user }, 'crashes queued for reprocessing');
    return true;
  });

  app.get('/api/DeadLetters/', { preHandler: requirePermission('reprocess') }, async () => {
    const letters = await options.queue.deadLetters(500);
    return { total: letters.length, hits: letters.map((l) => ({ crash_id: l.crashId, queue: l.queue, attempts: l.attempts, error: l.error, failed_at: new Date(l.failedAt).toISOString(), ruleset: l.ruleset ?? null })) };
  });

  app.post<{ Body: Record<string, unknown> | undefined }>('/api/DeadLetters/', { preHandler: requirePermission('reprocess') }, async (request, reply) => {
    const id = parseCrashId(values(request.body?.crash_id)[0] ?? '');
    if (!id) return reply.code(400).send({ error: 'crash_id is missing or is not a crash id' });
    if (!(await options.queue.retryDeadLetter(id))) return reply.code(404).send({ error: 'no dead letter for this crash', crash_id: id });
    return { retried: id };
  });
};
