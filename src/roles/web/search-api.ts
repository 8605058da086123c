import type { FastifyPluginAsync } from 'fastify';
import { hasPermission } from '../../common/permissions.js';
import { SearchError, type CrashIndex, type FacetResult } from '../../ports/crash-index.js';
import { SuperSearchParamError, parseSuperSearch, superSearchFieldsDocument, type QueryParams } from './super-search-params.js';
import { withAccess } from '../../auth/route-access.js';

export interface SearchApiOptions {
  crashIndex: CrashIndex;
  /** The clock for Super Search's default date range (tests pin it). */
  now?: () => number;
}

/**
 * Socorro's search API: `GET /api/SuperSearch/` and `GET /api/SuperSearchFields/`.
 * Answers `{hits, total, facets, errors}` as Socorro does; protected fields are refused
 * (403) to viewers without `view_protected` wherever the query names them, and never
 * appear in default columns.
 */
export const searchApiPlugin: FastifyPluginAsync<SearchApiOptions> = async (app, options) => {
  const { crashIndex } = options;
  const now = options.now ?? Date.now;

  app.get<{ Querystring: QueryParams }>('/api/SuperSearch/', withAccess('public'), async (request, reply) => {
    try {
      const { query, requestedNames } = parseSuperSearch(request.query, { canViewProtected: hasPermission(request, 'view_protected'), now: now() });
      const result = await crashIndex.search(query);
      // Answer under the names the caller used (Socorro's `date`, not `submitted_timestamp`).
      const hits = result.hits.map((hit) => Object.fromEntries(Object.entries(hit).map(([name, value]) => [requestedNames.get(name) ?? name, value])));
      return { hits, total: result.total, facets: result.facets satisfies Record<string, FacetResult>, errors: [] };
    } catch (error) {
      if (error instanceof SuperSearchParamError) return reply.code(error.status).send({ error: error.message });
      if (error instanceof SearchError) return reply.code(error.kind === 'forbidden' ? 403 : 400).send({ error: error.message });
      throw error;
    }
  });

  const fields = superSearchFieldsDocument();
  app.get('/api/SuperSearchFields/', withAccess('public'), async () => fields);
};
