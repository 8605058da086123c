import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { parseCrashId } from '../../common/crash-id.js';
import { hasPermission } from '../../common/permissions.js';
import { SearchError, type CrashIndex } from '../../ports/crash-index.js';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import type { BugLinkStore } from '../../ports/bug-links.js';
import { protectedAnnotationsOf } from './crash-api.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../schema/field-catalog.js';
import { dataDictionaryPage } from './pages/data-dictionary.js';
import { errorPage, homePage, notFoundPage, pendingPage, reportPage, searchPage, searchState, signaturePage, topCrashersPage } from './pages.js';
import { all, DAY_MS, dayRange, first } from './pages/format.js';
import { SuperSearchParamError, hitsUnderRequestedNames, parseSuperSearch, type QueryParams } from './super-search-params.js';
import { withAccess } from '../../auth/route-access.js';
import { csrfField } from './account-pages.js';
import { loadSignatureData } from './signature-data.js';
import { STARTUP_SHARE, loadTopCrashers, topCrashersRequest } from './top-crashers-data.js';
import type { SourceLinkRule } from './pages/source-links.js';
import { bugLinkList, siteUrl } from './pages/bug-links.js';
import { html } from './html.js';

export interface WebOptions {
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
  crashIndex: CrashIndex;
  queue: ProcessingQueue;
  /** Links between signatures and bugs (shown with `pages/bug-links.ts`; edited through `bug-api.ts`). */
  bugLinks: BugLinkStore;
  /** `web.bug_url_template`: a bug's link, `{bug}` its id; unset shows bug ids as text. */
  bugUrlTemplate?: string;
  /** `web.new_bug_url_template`: the "file a bug" link; unset shows none. */
  newBugUrlTemplate?: string;
  /** `[source_links.rules.*]`: links from frames' source files into version control. */
  sourceLinks?: readonly SourceLinkRule[];
  /** The node's fields: built-in ones and those its configuration declares (default: built-in only). */
  fields?: FieldCatalog;
  /** The clock for default date ranges (tests pin it). */
  now?: () => number;
}

const PAGE_SIZE = 50;
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
  const fields = options.fields ?? DEFAULT_FIELD_CATALOG;
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
    const choice = topCrashersRequest(request.query, now());
    const [data, productVersions] = await Promise.all([loadTopCrashers({ crashIndex, bugLinks: options.bugLinks }, choice), crashIndex.productVersions()]);
    return send(reply, topCrashersPage({ ...choice, ...data, startupThreshold: STARTUP_SHARE, bugUrlTemplate: options.bugUrlTemplate, productVersions }));
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/signature/', withAccess('public'), async (request, reply) => {
    if (!first(request.query.signature)) return send(reply, errorPage('Signature', 'Which signature? Add ?signature=… to the URL, or pick one in the top crashers.'), 400);
    const [data, productVersions] = await Promise.all([
      loadSignatureData({ crashIndex, bugLinks: options.bugLinks, fields, now: now() }, { query: request.query, canViewProtected: hasPermission(request, 'view_protected') }),
      crashIndex.productVersions(),
    ]);
    const view = {
      ...data,
      productVersions,
      returnTo: request.url,
      csrf: csrfField(request),
      canReprocess: hasPermission(request, 'reprocess'),
      canLinkBugs: hasPermission(request, 'link_bugs'),
      bugUrlTemplate: options.bugUrlTemplate,
      newBugUrlTemplate: options.newBugUrlTemplate,
      origin: siteUrl(request, ''),
    };
    return send(reply, signaturePage(view));
  });

  // Every field, declared ones included; protected ones are listed (their existence is no secret) and marked.
  app.get('/documentation/datadictionary/', withAccess('public'), async (_request, reply) => send(reply, dataDictionaryPage({ fields })));
  app.get('/documentation/datadictionary', withAccess('public'), async (_request, reply) => reply.redirect('/documentation/datadictionary/'));

  app.get<{ Querystring: QueryParams }>('/search/', withAccess('public'), async (request, reply) => {
    const canViewProtected = hasPermission(request, 'view_protected');
    const state = searchState(request.query, now());
    try {
      const parsed = parseSuperSearch(state.params, { canViewProtected, now: now(), fields });
      const result = await crashIndex.search(parsed.query);
      const hits = hitsUnderRequestedNames(result.hits, parsed.requestedNames);
      return send(reply, searchPage({ state, canViewProtected, fields, result: { ...result, hits } }));
    } catch (error) {
      if (error instanceof SuperSearchParamError) return send(reply, searchPage({ state, canViewProtected, fields, error: error.message }), error.status);
      if (error instanceof SearchError) return send(reply, searchPage({ state, canViewProtected, fields, error: error.message }), error.kind === 'forbidden' ? 403 : 400);
      throw error;
    }
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, string | string[] | undefined> }>('/report/index/:id', withAccess('public'), async (request, reply) => {
    const crashId = parseCrashId(request.params.id);
    if (!crashId) return send(reply, notFoundPage(`"${request.params.id}" is not a crash id.`), 400);
    const [processed, raw, inQueue] = await Promise.all([processedCrashStore.get(crashId), rawCrashStore.get(crashId), queue.has(crashId)]);
    const viewer = { canViewProtected: hasPermission(request, 'view_protected'), canDownloadDumps: hasPermission(request, 'download_dumps') };
    if (processed) {
      // After a Reprocess button (`?reprocessed_at=`, see reprocess-page-route.ts): wait while
      // the crash is queued and its processing is older than the request, then show the new one.
      const requestedAt = Number(first(request.query.reprocessed_at));
      const processedAt = Date.parse(String(processed.date_processed ?? ''));
      const newer = Number.isFinite(requestedAt) && processedAt >= requestedAt;
      const signature = typeof processed.signature === 'string' && processed.signature !== '' ? processed.signature : undefined;
      const bugs = signature ? (await options.bugLinks.forSignatures([signature])).get(signature) : undefined;
      return send(
        reply,
        reportPage(processed, raw, viewer, raw ? protectedAnnotationsOf(raw, fields) : new Set(), {
          catalog: fields,
          bugLinks: signature ? bugLinkList(bugs, options.bugUrlTemplate, { empty: html`<span class="muted">none linked</span>` }) : undefined,
          sourceLinks: options.sourceLinks,
          reprocess: hasPermission(request, 'reprocess') ? { csrf: csrfField(request) } : undefined,
          reprocessing: inQueue && !newer,
          // Saved but not yet acknowledged is done too: the page must not stop between the two.
          reprocessed: newer,
        }),
      );
    }
    if (!raw) return send(reply, notFoundPage(`No crash ${crashId} here.`), 404);
    // A person is waiting for this one: move it ahead of the standard queue.
    await queue.enqueue(crashId, 'priority');
    return send(reply, pendingPage(crashId, raw));
  });
};
