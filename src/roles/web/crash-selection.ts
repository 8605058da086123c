import type { CrashIndex } from '../../ports/crash-index.js';
import type { FieldCatalog } from '../../schema/field-catalog.js';
import type { MissingSymbolsLog, SymbolKey } from '../../ports/symbol-store.js';
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
export async function selectCrashIds(crashIndex: CrashIndex, params: QueryParams, options: { canViewProtected: boolean; now?: number; fields?: FieldCatalog }): Promise<string[]> {
  const filtersOnly = Object.fromEntries(Object.entries(params).filter(([key]) => !key.startsWith('_')));
  const { query } = parseSuperSearch(filtersOnly, { canViewProtected: options.canViewProtected, now: options.now ?? Date.now(), fields: options.fields });
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

/** `YYYY-MM-DD`, a real calendar day. */
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** A bad selection (a date that is not one, a range upside down): the caller answers 400 with the message. */
export class SelectionError extends Error {}

/** Midnight UTC of a `YYYY-MM-DD` day; throws `SelectionError` for anything else. */
export function parseDay(text: string, name: string): number {
  const ms = DAY_PATTERN.test(text) ? Date.parse(`${text}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) throw new SelectionError(`${name} must be a day as YYYY-MM-DD, got "${text}"`);
  return ms;
}

/**
 * The crash ids of one signature (exactly that signature), optionally of one product,
 * submitted from `from` to `to` (YYYY-MM-DD, `to` inclusive; without them, the last 7
 * days). What the Reprocess button of a signature page selects.
 */
export async function selectSignatureCrashIds(
  crashIndex: CrashIndex,
  selection: { signature: string; product?: string; from?: string; to?: string },
  options: { canViewProtected: boolean; now?: number },
): Promise<string[]> {
  const now = options.now ?? Date.now();
  const to = selection.to !== undefined ? parseDay(selection.to, 'to') + DAY_MS : now;
  const from = selection.from !== undefined ? parseDay(selection.from, 'from') : to - 7 * DAY_MS;
  if (from >= to) throw new SelectionError('from must be on or before to');
  const params: QueryParams = {
    // `=` asks for this exact signature (a bare value would read as "contains").
    signature: `=${selection.signature}`,
    date: [`>=${new Date(from).toISOString()}`, `<${new Date(to).toISOString()}`],
  };
  if (selection.product !== undefined) params.product = `=${selection.product}`;
  return selectCrashIds(crashIndex, params, options);
}

/**
 * The crashes of the last `days` days that missed the symbols of one module, or of every
 * module the missing-symbols log lists (`module` absent), each crash once, at most `limit`.
 */
export async function selectMissingSymbolsCrashIds(
  log: Pick<MissingSymbolsLog, 'list' | 'crashesMissing'>,
  selection: { module?: SymbolKey; days: number; limit: number; now?: number },
): Promise<string[]> {
  const since = (selection.now ?? Date.now()) - selection.days * DAY_MS;
  const modules: SymbolKey[] = selection.module ? [selection.module] : await log.list({ since, limit: MAX_MISSING_MODULES });
  const ids = new Set<string>();
  for (const module of modules) {
    for (const id of await log.crashesMissing({ debugFile: module.debugFile, debugId: module.debugId }, since, selection.limit)) {
      ids.add(id);
      if (ids.size >= selection.limit) return [...ids];
    }
  }
  return [...ids];
}

/** Most modules "reprocess every crash missing symbols" goes through. */
const MAX_MISSING_MODULES = 10_000;
