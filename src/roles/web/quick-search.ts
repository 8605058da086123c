import type { FastifyPluginAsync } from 'fastify';
import { withAccess } from '../../auth/route-access.js';
import { parseCrashId } from '../../common/crash-id.js';
import { SearchError, type CrashIndex } from '../../ports/crash-index.js';
import { errorPage } from './pages.js';
import { DAY_MS, first } from './pages/format.js';

export interface QuickSearchOptions {
  crashIndex: CrashIndex;
  /** The clock for the lookup's (empty) day range (tests pin it). */
  now?: () => number;
}

/**
 * The longest input the header box takes, in UTF-16 units after trimming. Signatures are at
 * most 255 characters and report URLs far shorter; past this the answer is a 400 page, so
 * the work per request stays bounded (every step below is linear in the input).
 */
export const QUICK_SEARCH_MAX_LENGTH = 1000;

/** Where the header box leads. */
export type QuickSearchTarget =
  | { kind: 'search' }
  | { kind: 'report'; crashId: string }
  | { kind: 'signature'; signature: string }
  | { kind: 'contains'; words: string };

/** A crash id anywhere in a token (a pasted report URL, `CrashID=bp-…`), not part of a longer word. */
const EMBEDDED_CRASH_ID = /(?<![0-9a-z])(?:bp-)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9a-z])/gi;
/** Characters no signature holds (they are printable): the index is not asked about them. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Unpaired surrogates (no URL can carry them): replaced, so that encoding the redirect cannot throw. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The one crash id a single token (no spaces) carries: a report URL pasted whole, or the
 * `CrashID=bp-…` line a client prints. Several different ids, or none: undefined.
 */
export function crashIdIn(text: string): string | undefined {
  if (/\s/.test(text)) return undefined;
  const ids = new Set<string>();
  for (const match of text.matchAll(EMBEDDED_CRASH_ID)) {
    const id = parseCrashId(match[1]!);
    if (id) ids.add(id);
  }
  return ids.size === 1 ? [...ids][0] : undefined;
}

/**
 * What the header box's text means, in order: a crash id (with or without `bp-`, any
 * case), a signature the index has seen (exactly, case-sensitive), a token carrying one
 * crash id (a report URL), and otherwise the words a signature contains. `signatureExists`
 * is asked only about printable text.
 */
export async function quickSearchTarget(input: string, signatureExists: (signature: string) => Promise<boolean>): Promise<QuickSearchTarget> {
  const text = input.replace(LONE_SURROGATE, '\uFFFD').trim();
  if (text === '') return { kind: 'search' };
  const crashId = parseCrashId(text);
  if (crashId) return { kind: 'report', crashId };
  if (!CONTROL.test(text) && (await signatureExists(text))) return { kind: 'signature', signature: text };
  const embedded = crashIdIn(text);
  if (embedded) return { kind: 'report', crashId: embedded };
  return { kind: 'contains', words: text };
}

/** The page a target is shown on. */
export function quickSearchUrl(target: QuickSearchTarget): string {
  switch (target.kind) {
    case 'search':
      return '/search/';
    case 'report':
      return `/report/index/${target.crashId}`;
    case 'signature':
      return `/signature/?signature=${encodeURIComponent(target.signature)}`;
    case 'contains':
      // Super Search's `~` (contains); the text after it is taken literally, operators included.
      return `/search/?signature=${encodeURIComponent(`~${target.words}`)}`;
  }
}

/**
 * `GET /quick-search?q=…`, the header box: answers 303 to the report, the signature page or
 * a Super Search for signatures containing the words. The signature check reads only the
 * daily counts' first and last day for that signature (an index lookup), over an empty range.
 */
export const quickSearchPlugin: FastifyPluginAsync<QuickSearchOptions> = async (app, options) => {
  const { crashIndex } = options;
  const now = options.now ?? Date.now;

  const signatureExists = async (signature: string): Promise<boolean> => {
    const today = Math.floor(now() / DAY_MS) * DAY_MS;
    try {
      const summary = await crashIndex.signatureSummary({ signature, range: { from: today, to: today }, facets: [], facetsSize: 0, allowProtected: false });
      return summary.firstSeen !== null;
    } catch (error) {
      // A lookup the index refuses is not a signature it knows.
      if (error instanceof SearchError) return false;
      throw error;
    }
  };

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/quick-search', withAccess('public'), async (request, reply) => {
    const q = first(request.query.q) ?? '';
    if (q.trim().length > QUICK_SEARCH_MAX_LENGTH) {
      return reply
        .code(400)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'private')
        .send(errorPage('Quick search', `That is ${q.trim().length} characters; the box takes a crash id or a signature of at most ${QUICK_SEARCH_MAX_LENGTH}.`));
    }
    const target = await quickSearchTarget(q, signatureExists);
    return reply.header('cache-control', 'private').redirect(quickSearchUrl(target), 303);
  });
};
