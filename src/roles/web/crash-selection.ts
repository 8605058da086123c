import type { CrashIndex } from '../../ports/crash-index.js';
import { parseSuperSearch, type QueryParams } from './super-search-params.js';
import { parseFormBody } from './form-body.js';

/** Most crashes one reprocessing request may select. */
export const MAX_SELECTED_CRASHES = 100_000;
const PAGE = 1000;

/**
 * The crash ids a Super Search query selects (filters only; `_` parameters other than
 * dates are ignored), for reprocessing by signature or by query. Like Super Search, a
 * query without a date range covers the last 7 days. Throws `SuperSearchParamError` for
 * a bad query and a RangeError past `MAX_SELECTED_CRASHES`.
 */
export async function selectCrashIds(crashIndex: CrashIndex, params: QueryParams, options: { canViewProtected: boolean; now?: number }): Promise<string[]> {
  const filtersOnly = Object.fromEntries(Object.entries(params).filter(([key]) => !key.startsWith('_')));
  const { query } = parseSuperSearch(filtersOnly, { canViewProtected: options.canViewProtected, now: options.now ?? Date.now() });
  const ids: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await crashIndex.search({ ...query, columns: ['uuid'], sort: [{ field: 'uuid', descending: false }], aggregations: {}, limit: PAGE, offset });
    if (page.total > MAX_SELECTED_CRASHES) throw new RangeError(`the query selects ${page.total} crashes; at most ${MAX_SELECTED_CRASHES} may be reprocessed at once`);
    ids.push(...page.hits.map((hit) => String(hit.uuid)));
    if (page.hits.length < PAGE) return ids;
  }
}

/**
 * `product=Example&version=1.0&version=1.1` -> QueryParams (repeated names become lists).
 * Throws `FormBodyError` (413) for more than `DEFAULT_MAX_FORM_FIELDS` parameters.
 */
export function queryStringToParams(text: string): QueryParams {
  return { ...parseFormBody(text.replace(/^\?/, '')) };
}
