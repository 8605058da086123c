import { html, type Html } from '../html.js';

/** Small formatting helpers shared by the Crash Stats pages. */

export const DAY_MS = 86_400_000;

export function formatDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A 0..1 fraction as a percentage with one decimal. */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

export function text(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

/**
 * A link's query string from the page's state: every page keeps its state in the URL, so
 * links are built from a plain record; empty values are dropped so URLs stay short.
 */
export function queryString(params: Record<string, string | readonly string[] | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) search.append(key, v);
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * What a viewer had chosen when they followed a link to a signature page (product,
 * versions, platforms, process types, the date range, and any other Super Search filter):
 * the signature page keeps it, so a triager who picked "version 2.1, 3 days" on top
 * crashers still sees version 2.1 and 3 days.
 */
export interface SignatureContext {
  product?: string;
  versions?: readonly string[];
  /** `os_name` values (top crashers' "platform"). */
  platforms?: readonly string[];
  processTypes?: readonly string[];
  /** `days`, or `from`/`to` (YYYY-MM-DD, `to` inclusive) for a fixed range. */
  days?: number;
  from?: string;
  to?: string;
  /**
   * Other Super Search filters, by field, in Super Search's value syntax (`=x`, `!~y`,
   * `^2025`): a search's filters, top crashers' report type and build range.
   */
  filters?: Readonly<Record<string, readonly string[]>>;
}

/** Parameters the signature page reads itself; a carried Super Search filter never takes their names. */
export const SIGNATURE_PAGE_PARAMS: ReadonlySet<string> = new Set(['signature', 'days', 'from', 'to', 'page', 'split', 'date', 'submitted_timestamp', 'reprocessed', 'reprocessed_at']);

/**
 * The signature page's URL for a signature seen in this context. Its filters are Super
 * Search parameters (platforms go as `os_name`, the field they are), so the page reads
 * any Super Search filter the same way.
 */
export function signatureHref(signature: string, context: SignatureContext = {}): string {
  const named: Record<string, readonly string[] | undefined> = {
    product: context.product ? [context.product] : undefined,
    version: context.versions,
    os_name: context.platforms,
    process_type: context.processTypes,
  };
  const params: Record<string, string | readonly string[] | number | undefined> = { signature };
  for (const [field, values] of Object.entries(named)) if (values && values.length > 0) params[field] = values;
  for (const [field, values] of Object.entries(context.filters ?? {})) {
    if (SIGNATURE_PAGE_PARAMS.has(field) || field.startsWith('_') || params[field] !== undefined || values.length === 0) continue;
    params[field] = values;
  }
  params.days = context.from || context.to ? undefined : context.days;
  params.from = context.from;
  params.to = context.to;
  return `/signature/${queryString(params)}`;
}

/**
 * The context of a Super Search (its filter rows, as the search page holds them, and its
 * `days`) for links to signature pages: every filter but the signature's, and the date
 * range as `from`/`to` when the search bounds `date`, else as `days`.
 */
export function superSearchContext(rows: readonly { field: string; op: string; value: string }[], days: number): SignatureContext {
  const filters: Record<string, string[]> = {};
  let from: string | undefined;
  let to: string | undefined;
  for (const row of rows) {
    const value = row.op === '__null__' || row.op === '!__null__' || row.op === '__true__' ? row.op : `${row.op}${row.value}`;
    if (row.field === 'date' || row.field === 'submitted_timestamp') {
      const ms = Date.parse(row.value);
      if (!Number.isFinite(ms)) continue;
      if (row.op === '>=' || row.op === '>') from = formatDay(ms);
      else if (row.op === '<') to = formatDay(ms - 1);
      else if (row.op === '<=') to = formatDay(ms);
      continue;
    }
    if (row.field === 'signature' || row.field === '') continue;
    (filters[row.field] ??= []).push(value);
  }
  return from || to ? { filters, from, to } : { filters, days };
}

/**
 * The build id prefixes (Socorro's build ids are YYYYMMDDhhmmss) of every build made in
 * the UTC days [from, to): whole years as `YYYY`, whole months as `YYYYMM`, other days as
 * `YYYYMMDD`, so a year's range is a handful of `starts_with` values, not 365.
 */
export function buildIdPrefixes(from: number, to: number): string[] {
  const prefixes: string[] = [];
  let day = Math.floor(from / DAY_MS) * DAY_MS;
  while (day < to) {
    const d = new Date(day);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth();
    const yearEnd = Date.UTC(y + 1, 0, 1);
    const monthEnd = Date.UTC(y, m + 1, 1);
    const ymd = d.toISOString().slice(0, 10).replaceAll('-', '');
    if (m === 0 && d.getUTCDate() === 1 && yearEnd <= to) {
      prefixes.push(ymd.slice(0, 4));
      day = yearEnd;
    } else if (d.getUTCDate() === 1 && monthEnd <= to) {
      prefixes.push(ymd.slice(0, 6));
      day = monthEnd;
    } else {
      prefixes.push(ymd);
      day += DAY_MS;
    }
  }
  return prefixes;
}

export function signatureLink(signature: string | null | undefined, context: SignatureContext | string = {}): Html {
  if (!signature) return html`<span class="muted">no signature</span>`;
  const ctx = typeof context === 'string' ? { product: context } : context;
  return html`<a class="mono" href="${signatureHref(signature, ctx)}">${signature}</a>`;
}

/**
 * The first value of a query parameter: Fastify hands repeated keys as arrays, and the
 * pages read most parameters once.
 */
export function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v;
}

/** Every value of a repeatable parameter (repeated keys and comma-separated alike). */
export function all(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** The longest range a page covers, in days (as `days=` already was). */
export const MAX_PAGE_DAYS = 365;

/**
 * The UTC day range [from, to) a page covers: `from`/`to` dates (YYYY-MM-DD, `to`
 * inclusive) when given, else the last `days` days including today. Clamped to
 * `MAX_PAGE_DAYS` (keeping `to`), so no URL makes a page count, draw or send more days.
 */
export function dayRange(params: { days?: string; from?: string; to?: string }, now: number, defaultDays = 7): { from: number; to: number; days: number } {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const parse = (s: string | undefined): number | undefined => {
    if (!s || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
    const ms = Date.parse(`${s}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : ms;
  };
  const fromDate = parse(params.from);
  const toDate = parse(params.to);
  if (fromDate !== undefined || toDate !== undefined) {
    const to = (toDate ?? today) + DAY_MS;
    const from = Math.max(Math.min(fromDate ?? to - defaultDays * DAY_MS, to - DAY_MS), to - MAX_PAGE_DAYS * DAY_MS);
    return { from, to, days: Math.round((to - from) / DAY_MS) };
  }
  const days = Math.min(MAX_PAGE_DAYS, Math.max(1, Number.parseInt(params.days ?? '', 10) || defaultDays));
  return { from: today + DAY_MS - days * DAY_MS, to: today + DAY_MS, days };
}

/** A signed change, e.g. "+3" / "−2", or "" for none. */
export function signed(n: number, digits = 0): string {
  if (n === 0) return '0';
  return `${n > 0 ? '+' : '−'}${Math.abs(n).toFixed(digits)}`;
}
