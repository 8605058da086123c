import type { FastifyPluginAsync } from 'fastify';
import { parseCrashId } from '../../common/crash-id.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import type { CrashIndex } from '../../ports/crash-index.js';
import { hasPermission } from '../../common/permissions.js';
import { queryStringToParams, selectCrashIds, selectMissingSymbolsCrashIds } from './crash-selection.js';
import type { MissingSymbolsLog, SymbolKey } from '../../ports/symbol-store.js';
import { SuperSearchParamError } from './super-search-params.js';
import { FormBodyError, fieldValues, formBodyParser } from './form-body.js';
import { withAccess } from '../../auth/route-access.js';
import type { FieldCatalog } from '../../schema/field-catalog.js';

/** Most crash ids one reprocessing request may name. */
const MAX_CRASH_IDS = 10_000;
/**
 * Room for `MAX_CRASH_IDS` ids as a form (`crash_ids=bp-<id>&`, 50 bytes each) or as JSON,
 * with margin for spaces and the other fields; far below the collector's 25 MB.
 */
const REPROCESSING_BODY_LIMIT = 1024 * 1024;
/** A dead letter retry names one crash. */
const SMALL_BODY_LIMIT = 4096;

export interface ReprocessingApiOptions {
  rawCrashStore: RawCrashStore;
  queue: ProcessingQueue;
  crashIndex: CrashIndex;
  rulesets: readonly string[];
  /** The node's fields, so that a query may select on declared annotation fields (default: the built-in ones). */
  fields?: FieldCatalog;
  /** The missing-symbols log, for `missing_symbols` selections (absent: such a request is 400). */
  missingSymbols?: Pick<MissingSymbolsLog, 'list' | 'crashesMissing'>;
}

/** Most crashes a `missing_symbols` selection queues (as `POST /api/ReprocessMissingSymbols/`). */
const MAX_MISSING_SYMBOLS_CRASHES = 10_000;

/**
 * `missing_symbols=all` (every module of the missing-symbols report) or
 * `missing_symbols=DEBUG_FILE/DEBUG_ID` (one module; a debug file may hold slashes, a
 * debug id does not): the module, `null` for all, or undefined when it reads as neither.
 */
export function parseMissingSymbolsSelection(value: string): SymbolKey | null | undefined {
  if (value === 'all') return null;
  const slash = value.lastIndexOf('/');
  const debugFile = value.slice(0, slash);
  const debugId = value.slice(slash + 1);
  return slash > 0 && /^[0-9A-Fa-f]{1,64}$/.test(debugId) ? { debugFile, debugId } : undefined;
}

/** Queues in batches: a selection of 100,000 must not open 100,000 writes at once. */
async function enqueueAll(queue: ProcessingQueue, ids: readonly string[], ruleset: string): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => queue.enqueue(id, 'reprocessing', { ruleset })));
}

/**
 * Socorro's `POST /api/Reprocessing/` (`crash_ids`, one or many; answers `true`), with
 * Mayday's `ruleset` parameter and selections by `signature`, Super Search `query`, or
 * `missing_symbols` (`all` or `DEBUG_FILE/DEBUG_ID`, with `days`, default 7: the crashes
 * that missed those symbols; answers `{queued, crash_ids}`), and the processor's dead letters: `GET /api/DeadLetters/`
 * and `POST /api/DeadLetters/` (`crash_id`) to retry one. All need the `reprocess`
 * permission.
 */
export const reprocessingApiPlugin: FastifyPluginAsync<ReprocessingApiOptions> = async (app, options) => {
  // Socorro's clients post forms (`requests.post(url, data={...})`).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, formBodyParser({ maxFields: MAX_CRASH_IDS + 100 }));
  // Who may call is settled from the headers, before a byte of the body is read: an
  // anonymous or unentitled body is never parsed (see `withAccess`).
  const reprocessors = { permission: 'reprocess' } as const;

  app.post<{ Body: Record<string, unknown> | undefined }>('/api/Reprocessing/', withAccess(reprocessors, { bodyLimit: REPROCESSING_BODY_LIMIT }), async (request, reply) => {
    const body = request.body ?? {};
    const given = fieldValues(body.crash_ids);
    const signature = fieldValues(body.signature)[0];
    const query = fieldValues(body.query)[0];
    const missingSymbols = fieldValues(body.missing_symbols)[0];
    if ([given.length > 0, signature !== undefined, query !== undefined, missingSymbols !== undefined].filter(Boolean).length !== 1) {
      return reply.code(400).send({ error: 'give exactly one of crash_ids, signature, query (a Super Search query string) or missing_symbols (all, or DEBUG_FILE/DEBUG_ID)' });
    }
    if (given.length > MAX_CRASH_IDS) return reply.code(413).send({ error: `at most ${MAX_CRASH_IDS} crash_ids per request` });
    const ruleset = fieldValues(body.ruleset)[0] ?? 'default';
    if (!options.rulesets.includes(ruleset)) return reply.code(400).send({ error: `unknown ruleset "${ruleset}" (known: ${options.rulesets.join(', ')})` });
    const ids: string[] = [];
    if (missingSymbols !== undefined) {
      const module = parseMissingSymbolsSelection(missingSymbols);
      if (module === undefined) return reply.code(400).send({ error: `missing_symbols must be "all" or DEBUG_FILE/DEBUG_ID (a hex debug id), got "${missingSymbols}"` });
      if (!options.missingSymbols) return reply.code(400).send({ error: 'this node keeps no missing-symbols log' });
      const days = Number(fieldValues(body.days)[0] ?? '7');
      if (!Number.isInteger(days) || days < 1 || days > 365) return reply.code(400).send({ error: 'days must be a whole number from 1 to 365' });
      const selected = await selectMissingSymbolsCrashIds(options.missingSymbols, { module: module ?? undefined, days, limit: MAX_MISSING_SYMBOLS_CRASHES });
      await enqueueAll(options.queue, selected, ruleset);
      request.log.info({ count: selected.length, ruleset, user: request.principal?.user, missingSymbols }, 'crashes that missed symbols queued for reprocessing');
      return { queued: selected.length, crash_ids: selected.slice(0, 1000) };
    }
    if (given.length > 0) {
      for (const raw of given) {
        const id = parseCrashId(raw);
        if (!id) return reply.code(400).send({ error: `"${raw}" is not a crash id` });
        ids.push(id);
      }
    } else {
      try {
        const params = query !== undefined ? queryStringToParams(query) : {};
        if (signature !== undefined) params.signature = signature;
        // A selection may hold 100,000 ids: appended one by one (a spread that large overflows the stack).
        for (const id of await selectCrashIds(options.crashIndex, params, { canViewProtected: hasPermission(request, 'view_protected'), fields: options.fields })) ids.push(id);
      } catch (error) {
        if (error instanceof SuperSearchParamError) return reply.code(error.status).send({ error: error.message });
        if (error instanceof FormBodyError) return reply.code(error.statusCode).send({ error: `query: ${error.message}` });
        if (error instanceof RangeError) return reply.code(413).send({ error: error.message });
        throw error;
      }
      // Socorro answers `true`; a selection says what it selected.
      await enqueueAll(options.queue, ids, ruleset);
      request.log.info({ count: ids.length, ruleset, user: request.principal?.user }, 'crashes queued for reprocessing');
      return { queued: ids.length, crash_ids: ids.slice(0, 1000) };
    }
    const missing: string[] = [];
    for (const id of ids) if (!(await options.rawCrashStore.get(id))) missing.push(id);
    if (missing.length > 0) return reply.code(404).send({ error: 'no such crash', crash_ids: missing });
    await Promise.all(ids.map((id) => options.queue.enqueue(id, 'reprocessing', { ruleset })));
    request.log.info({ count: ids.length, ruleset, user: request.principal?.user }, 'crashes queued for reprocessing');
    return true;
  });

  app.get('/api/DeadLetters/', withAccess(reprocessors), async () => {
    const letters = await options.queue.deadLetters(500);
    return { total: letters.length, hits: letters.map((l) => ({ crash_id: l.crashId, queue: l.queue, attempts: l.attempts, error: l.error, failed_at: new Date(l.failedAt).toISOString(), ruleset: l.ruleset ?? null })) };
  });

  app.post<{ Body: Record<string, unknown> | undefined }>('/api/DeadLetters/', withAccess(reprocessors, { bodyLimit: SMALL_BODY_LIMIT }), async (request, reply) => {
    const id = parseCrashId(fieldValues(request.body?.crash_id)[0] ?? '');
    if (!id) return reply.code(400).send({ error: 'crash_id is missing or is not a crash id' });
    if (!(await options.queue.retryDeadLetter(id))) return reply.code(404).send({ error: 'no dead letter for this crash', crash_id: id });
    return { retried: id };
  });
};
