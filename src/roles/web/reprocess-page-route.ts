/**
 * `POST /reprocess`: the Reprocess buttons of the Crash Stats pages (report, signature,
 * missing symbols). A form post from a signed-in person (session and CSRF field) or a
 * token holding `reprocess`; it queues the selected crashes on the `reprocessing` queue
 * and sends the browser back (303) to `return_to` with `?reprocessed=N`, which the page
 * shows as a notice. One selection per post:
 *
 * - `crash_id` (one crash; `bp-` allowed);
 * - `signature`, with optional `product` and `from`/`to` (YYYY-MM-DD, `to` inclusive;
 *   the last 7 days without them);
 * - `debug_file` + `debug_id` (the crashes of the last `days` days, default 7, that
 *   missed that module's symbols), or `missing_symbols=all` (every module listed).
 *
 * `return_to` must be a path on this site: anything a browser could read as another
 * origin is refused (400), never followed.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { parseCrashId } from '../../common/crash-id.js';
import { hasPermission } from '../../common/permissions.js';
import { SearchError, type CrashIndex } from '../../ports/crash-index.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import type { MissingSymbolsLog } from '../../ports/symbol-store.js';
import { withAccess } from '../../auth/route-access.js';
import { sameSiteReturnPath } from './account-pages.js';
import { MAX_SELECTED_CRASHES, SelectionError, selectMissingSymbolsCrashIds, selectSignatureCrashIds } from './crash-selection.js';
import { formBodyParser, type FormBody } from './form-body.js';
import { errorPage } from './pages.js';
import { SuperSearchParamError } from './super-search-params.js';

export interface ReprocessPageOptions {
  rawCrashStore: RawCrashStore;
  queue: ProcessingQueue;
  crashIndex: CrashIndex;
  /** The missing-symbols log (the symbols role's), for the missing-symbols selections. */
  missingSymbols?: Pick<MissingSymbolsLog, 'list' | 'crashesMissing'>;
  now?: () => number;
}

/** A form of a few short fields. */
const BODY_LIMIT = 16 * 1024;
const MAX_DAYS = 365;
/** Most crashes a missing-symbols selection queues (as `POST /api/ReprocessMissingSymbols/`). */
const MAX_MISSING_SYMBOLS_CRASHES = 10_000;
/** Enqueued this many at a time: a selection of 100,000 must not open 100,000 writes at once. */
const ENQUEUE_BATCH = 100;

/** `path` with `name=value` set in its query (replacing earlier values), keeping its fragment. */
export function withNotice(path: string, notice: Record<string, string>): string {
  const url = new URL(path, 'http://mayday.invalid');
  for (const [name, value] of Object.entries(notice)) url.searchParams.set(name, value);
  return `${url.pathname}${url.search}${url.hash}`;
}

export async function enqueueAll(queue: Pick<ProcessingQueue, 'enqueue'>, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += ENQUEUE_BATCH) await Promise.all(ids.slice(i, i + ENQUEUE_BATCH).map((id) => queue.enqueue(id, 'reprocessing')));
}

const one = (value: string | string[] | undefined): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const reprocessPagePlugin: FastifyPluginAsync<ReprocessPageOptions> = async (app, options) => {
  const now = options.now ?? Date.now;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, formBodyParser({ maxFields: 50 }));

  const refuse = (reply: FastifyReply, status: number, message: string): FastifyReply =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'private').send(errorPage('Cannot reprocess', message));

  /** The selected crash ids and where to go back to when the form names no `return_to`. */
  async function select(form: FormBody, canViewProtected: boolean): Promise<{ ids: string[]; back: string; queuedAt?: number }> {
    const crashId = one(form.crash_id);
    const signature = one(form.signature);
    const debugFile = one(form.debug_file);
    const debugId = one(form.debug_id);
    const all = one(form.missing_symbols);
    const given = [crashId !== undefined, signature !== undefined, debugFile !== undefined || debugId !== undefined || all !== undefined].filter(Boolean).length;
    if (given !== 1) throw new Refusal(400, 'Name the crashes with exactly one of: crash_id; signature (with product, from, to); debug_file and debug_id, or missing_symbols=all.');

    if (crashId !== undefined) {
      const id = parseCrashId(crashId);
      if (!id) throw new Refusal(400, `"${crashId}" is not a crash id.`);
      if (!(await options.rawCrashStore.get(id))) throw new Refusal(404, `No crash ${id} here.`);
      return { ids: [id], back: `/report/index/${id}`, queuedAt: now() };
    }
    if (signature !== undefined) {
      const product = one(form.product);
      const ids = await selectSignatureCrashIds(options.crashIndex, { signature, product, from: one(form.from), to: one(form.to) }, { canViewProtected, now: now() });
      return { ids, back: `/signature/?${new URLSearchParams({ signature, ...(product ? { product } : {}) })}` };
    }
    if (!options.missingSymbols) throw new Refusal(400, 'This node keeps no missing-symbols log.');
    const daysText = one(form.days) ?? '7';
    const days = Number(daysText);
    if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new Refusal(400, `days must be a whole number from 1 to ${MAX_DAYS}.`);
    if (all !== undefined) {
      if (all !== 'all' || debugFile !== undefined || debugId !== undefined) throw new Refusal(400, 'missing_symbols takes the value "all", without debug_file or debug_id.');
    } else if (debugFile === undefined || debugId === undefined) throw new Refusal(400, 'debug_file and debug_id go together.');
    const module = debugFile !== undefined && debugId !== undefined ? { debugFile, debugId } : undefined;
    const ids = await selectMissingSymbolsCrashIds(options.missingSymbols, { module, days, limit: MAX_MISSING_SYMBOLS_CRASHES, now: now() });
    return { ids, back: `/missing-symbols/?days=${days}` };
  }

  app.post<{ Body: FormBody | undefined }>('/reprocess', withAccess({ permission: 'reprocess' }, { bodyLimit: BODY_LIMIT }), async (request, reply) => {
    const form = request.body ?? {};
    const returnTo = one(form.return_to);
    const target = returnTo === undefined ? undefined : sameSiteReturnPath(returnTo);
    if (returnTo !== undefined && target === undefined) return refuse(reply, 400, 'return_to must be a path on this site (starting with a single /).');
    let selected;
    try {
      selected = await select(form, hasPermission(request, 'view_protected'));
    } catch (error) {
      if (error instanceof Refusal) return refuse(reply, error.status, error.message);
      if (error instanceof SelectionError) return refuse(reply, 400, error.message);
      if (error instanceof SuperSearchParamError) return refuse(reply, error.status, error.message);
      if (error instanceof SearchError) return refuse(reply, error.kind === 'forbidden' ? 403 : 400, error.message);
      if (error instanceof RangeError) return refuse(reply, 413, `${error.message} (at most ${MAX_SELECTED_CRASHES}: narrow the range)`);
      throw error;
    }
    await enqueueAll(options.queue, selected.ids);
    request.log.info({ count: selected.ids.length, user: request.session?.user ?? request.principal?.user }, 'crashes queued for reprocessing from a page');
    const notice: Record<string, string> = { reprocessed: String(selected.ids.length) };
    // The report page waits for a processing newer than this (see `reportPage`).
    if (selected.queuedAt !== undefined) notice.reprocessed_at = String(selected.queuedAt);
    return reply.redirect(withNotice(target ?? selected.back, notice), 303);
  });
};
