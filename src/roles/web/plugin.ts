import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { parseCrashId } from '../../common/crash-id.js';
import { hasPermission } from '../../common/permissions.js';
import { SearchError, type CrashIndex } from '../../ports/crash-index.js';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import { protectedAnnotationsOf } from './crash-api.js';
import { errorPage, homePage, notFoundPage, pendingPage, reportPage, searchPage, searchState, SIGNATURE_FACETS, SIGNATURE_REPORT_COLUMNS, signaturePage, topCrashersPage } from './pages.js';
import { all, DAY_MS, dayRange, first } from './pages/format.js';
import { SuperSearchParamError, parseSuperSearch, type QueryParams } from './super-search-params.js';
import { withAccess } from '../../auth/route-access.js';

export interface WebOptions {
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
  crashIndex: CrashIndex;
  queue: ProcessingQueue;
  /** The clock for default date ranges (tests pin it). */
  now?: () => number;
}

const PAGE_SIZE = 50;
/** The last page of a signature's reports that Super Search can serve (its offset limit). */
const MAX_REPORT_PAGE = Math.floor(1_000_000 / PAGE_SIZE) + 1;
/** Days of crash volume on the home page. */
const HOME_CHART_DAYS = 30;

/**
 * The web role's Crash Stats pages (the API is in `crash-api.ts`, `search-api.ts`, ...).
 * Server-rendered, every page's state in its query string, so any view can be linked.
 * The answers depend on the viewer's permissions (protected fields), so they are private
 * to the viewer. A parameter that takes one value uses the first when repeated (`first`);
 * lists take every value (`all`). Date ranges are clamped (`dayRange`).
 */
export const webPlugin: FastifyPluginAsync<WebOptions> = async (app, options) => {
  const { rawCrashStore, processedCrashStore, crashIndex, queue } = options;
  const now = options.now ?? Date.now;
  const send = (reply: FastifyReply, body: string, status = 200): FastifyReply =>
    reply.code(status).type('text/html; charset=utf-8').header('vary', 'Auth-Token, Cookie').header('cache-control', 'private').send(body);

  // A query the index refuses (a bound passed, a timeout) is the viewer's to change: say why.
  app.setErrorHandler(async (error, _request, reply) => {
    if (error instanceof SearchError) return send(reply, errorPage('Cannot show this', error.message), error.kind === 'forbidden' ? 403 : 400);
    if (error instanceof SuperSearchParamError) return send(reply, errorPage('Cannot show this', error.message), error.status);
    throw error;
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/', withAccess('public'), async (request, reply) => {
    // The crash list pages through the index: past a million crashes, use Super Search.
    const offset = Math.min(1_000_000, Math.max(0, Number.parseInt(first(request.query.offset) ?? '0', 10) || 0));
    const product = first(request.query.product);
    const today = Math.floor(now() / DAY_MS) * DAY_MS;
    const from = today + DAY_MS - HOME_CHART_DAYS * DAY_MS;
    const [latest, total, productVersions, volume] = await Promise.all([
      crashIndex.latest({ limit: PAGE_SIZE, offset, product }),
      product ? undefined : crashIndex.count(),
      crashIndex.productVersions(),
      crashIndex.search({
        filters: [
          { field: 'submitted_timestamp', operator: 'gte', values: [from], negated: false },
          { field: 'submitted_timestamp', operator: 'lt', values: [today + DAY_MS], negated: false },
          ...(product ? [{ field: 'product', operator: 'is' as const, values: [product], negated: false }] : []),
        ],
        columns: [],
        sort: [],
        limit: 0,
        offset: 0,
        aggregations: { histogram_date: { kind: 'histogram', field: 'submitted_timestamp', interval: DAY_MS } },
        allowProtected: false,
      }),
    ]);
    const counts = new Map<number, number>();
    const buckets = volume.facets.histogram_date;
    if (Array.isArray(buckets)) for (const b of buckets) counts.set(Date.parse(String(b.term)), b.count);
    const perDay = Array.from({ length: HOME_CHART_DAYS }, (_, i) => ({ day: from + i * DAY_MS, count: counts.get(from + i * DAY_MS) ?? 0 }));
    const productTotal = product ? productVersions.filter((pv) => pv.product === product).reduce((sum, pv) => sum + pv.count, 0) : total!;
    return send(reply, homePage({ product, productVersions, perDay, latest, total: productTotal, offset, limit: PAGE_SIZE }));
  });

  // The pages live under a trailing slash, as Socorro's do; the bare paths lead there with their query.
  for (const path of ['/topcrashers', '/signature', '/search']) {
    app.get(path, withAccess('public'), async (request, reply) => reply.redirect(`${path}/${request.url.slice(path.length)}`));
  }

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/topcrashers/', withAccess('public'), async (request, reply) => {
    const q = request.query;
    const product = first(q.product);
    const versions = all(q.version);
    const platforms = all(q.platform);
    const processTypes = all(q.process_type);
    const range = dayRange({ days: first(q.days), from: first(q.from), to: first(q.to) }, now());
    const [result, productVersions] = await Promise.all([
      crashIndex.topCrashers({ product, versions, platforms, processTypes, range: { from: range.from, to: range.to }, limit: 100 }),
      crashIndex.productVersions(),
    ]);
    return send(reply, topCrashersPage({ product, versions, platforms, processTypes, range, result, productVersions }));
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/signature/', withAccess('public'), async (request, reply) => {
    const q = request.query;
    const signature = first(q.signature);
    if (!signature) return send(reply, errorPage('Signature', 'Which signature? Add ?signature=… to the URL, or pick one in the top crashers.'), 400);
    const product = first(q.product);
    const canViewProtected = hasPermission(request, 'view_protected');
    const range = dayRange({ days: first(q.days), from: first(q.from), to: first(q.to) }, now(), 28);
    const pageNumber = Math.min(MAX_REPORT_PAGE, Math.max(1, Number.parseInt(first(q.page) ?? '1', 10) || 1));
    const offset = (pageNumber - 1) * PAGE_SIZE;
    const reportsQuery = parseSuperSearch(
      {
        signature: `=${signature}`,
        ...(product ? { product: `=${product}` } : {}),
        date: [`>=${new Date(range.from).toISOString()}`, `<${new Date(range.to).toISOString()}`],
        _columns: SIGNATURE_REPORT_COLUMNS,
        _sort: '-date',
        _facets_size: '0',
        _results_number: String(PAGE_SIZE),
        _results_offset: String(offset),
      },
      { canViewProtected, now: now() },
    );
    const [summary, reports] = await Promise.all([
      crashIndex.signatureSummary({ signature, product, range: { from: range.from, to: range.to }, facets: SIGNATURE_FACETS.map((f) => f.field), facetsSize: 10, allowProtected: canViewProtected }),
      crashIndex.search(reportsQuery.query),
    ]);
    // Answer under Super Search names (`date`, not `submitted_timestamp`).
    const hits = reports.hits.map((hit) => Object.fromEntries(Object.entries(hit).map(([k, v]) => [reportsQuery.requestedNames.get(k) ?? k, v])));
    return send(reply, signaturePage({ signature, product, range, summary, reports: { hits, total: reports.total, offset, limit: PAGE_SIZE } }));
  });

  app.get<{ Querystring: QueryParams }>('/search/', withAccess('public'), async (request, reply) => {
    const canViewProtected = hasPermission(request, 'view_protected');
    const state = searchState(request.query, now());
    try {
      const parsed = parseSuperSearch(state.params, { canViewProtected, now: now() });
      const result = await crashIndex.search(parsed.query);
      const hits = result.hits.map((hit) => Object.fromEntries(Object.entries(hit).map(([k, v]) => [parsed.requestedNames.get(k) ?? k, v])));
      return send(reply, searchPage({ state, canViewProtected, result: { ...result, hits } }));
    } catch (error) {
      if (error instanceof SuperSearchParamError) return send(reply, searchPage({ state, canViewProtected, error: error.message }), error.status);
      if (error instanceof SearchError) return send(reply, searchPage({ state, canViewProtected, error: error.message }), error.kind === 'forbidden' ? 403 : 400);
      throw error;
    }
  });

  app.get<{ Params: { id: string } }>('/report/index/:id', withAccess('public'), async (request, reply) => {
    const crashId = parseCrashId(request.params.id);
    if (!crashId) return send(reply, notFoundPage(`"${request.params.id}" is not a crash id.`), 400);
    const [processed, raw] = await Promise.all([processedCrashStore.get(crashId), rawCrashStore.get(crashId)]);
    const viewer = { canViewProtected: hasPermission(request, 'view_protected'), canDownloadDumps: hasPermission(request, 'download_dumps') };
    if (processed) return send(reply, reportPage(processed, raw, viewer, raw ? protectedAnnotationsOf(raw) : new Set()));
    if (!raw) return send(reply, notFoundPage(`No crash ${crashId} here.`), 404);
    // A person is waiting for this one: move it ahead of the standard queue.
    await queue.enqueue(crashId, 'priority');
    return send(reply, pendingPage(crashId, raw));
  });
};
