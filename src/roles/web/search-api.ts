import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { hasPermission } from '../../common/permissions.js';
import { SearchError, type CrashIndex, type FacetResult } from '../../ports/crash-index.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../schema/field-catalog.js';
import { SuperSearchParamError, hitsUnderRequestedNames, parseSuperSearch, superSearchFieldsDocument, type QueryParams } from './super-search-params.js';
import { withAccess } from '../../auth/route-access.js';

export interface SearchApiOptions {
  crashIndex: CrashIndex;
  /** The node's fields: built-in ones and those its configuration declares (default: built-in only). */
  fields?: FieldCatalog;
  /** The clock for Super Search's default date range (tests pin it). */
  now?: () => number;
}

/**
 * Socorro's search API: `GET /api/SuperSearch/`, `GET /api/SuperSearchUnredacted/` and
 * `GET /api/SuperSearchFields/`. Answers `{hits, total, facets, errors}` as Socorro does.
 * On SuperSearch, protected fields are refused (403) to viewers without `view_protected`
 * wherever the query names them, and never appear in default columns.
 * SuperSearchUnredacted is Socorro's name for the same search by those who may see
 * protected data: it needs `view_protected` itself (401/403 otherwise), so a script that
 * asks for it is told at once that its token lacks the permission.
 */
export const searchApiPlugin: FastifyPluginAsync<SearchApiOptions> = async (app, options) => {
  const { crashIndex } = options;
  const fields = options.fields ?? DEFAULT_FIELD_CATALOG;
  const now = options.now ?? Date.now;

  const superSearch = async (request: FastifyRequest<{ Querystring: QueryParams }>, reply: FastifyReply): Promise<unknown> => {
    try {
      const { query, requestedNames } = parseSuperSearch(request.query, { canViewProtected: hasPermission(request, 'view_protected'), now: now(), fields });
      const result = await crashIndex.search(query);
      const hits = hitsUnderRequestedNames(result.hits, requestedNames);
      return { hits, total: result.total, facets: result.facets satisfies Record<string, FacetResult>, errors: [] };
    } catch (error) {
      if (error instanceof SuperSearchParamError) return reply.code(error.status).send({ error: error.message });
      if (error instanceof SearchError) return reply.code(error.kind === 'forbidden' ? 403 : 400).send({ error: error.message });
      throw error;
    }
  };

  app.get<{ Querystring: QueryParams }>('/api/SuperSearch/', withAccess('public'), superSearch);
  app.get<{ Querystring: QueryParams }>('/api/SuperSearchUnredacted/', withAccess({ permission: 'view_protected' }), async (request, reply) => {
    // The answer holds protected data: no shared cache may keep it.
    reply.header('cache-control', 'private, no-store').header('vary', 'Auth-Token, Cookie');
    return superSearch(request, reply);
  });

  const document = superSearchFieldsDocument(fields);
  app.get('/api/SuperSearchFields/', withAccess('public'), async () => document);
};
