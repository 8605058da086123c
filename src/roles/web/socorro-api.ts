/**
 * Socorro-compatible answers scripts expect beside Super Search:
 * - `GET /api/SignatureFirstDate/?signatures=S...`: when each signature was first seen,
 *   and the first build it was seen in (`{hits:[{signature, first_date, first_build}], total}`);
 * - `POST /api/CrashSignature/`: the signature of a stack sent as JSON, with the explanation
 *   of each frame (Socorro's signature generation, as the processor runs it).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { CrashIndex, SearchQuery } from '../../ports/crash-index.js';
import { generateSignature, signatureInputFromCrash, type SignatureInput, type SignatureLists } from '../../signature/index.js';
import { withAccess } from '../../auth/route-access.js';
import { DAY_MS } from './pages/format.js';

/** Most signatures one `SignatureFirstDate` request may name: each costs two bounded searches. */
export const MAX_FIRST_DATE_SIGNATURES = 100;
/**
 * The first build is the lowest `build_id` among the signature's crashes of its first days
 * seen: bounded by that window rather than by every crash of a signature that may have
 * millions. A signature's oldest build almost always crashes in its first days.
 */
export const FIRST_BUILD_WINDOW_DAYS = 7;
/** A stack document: a stackwalker's JSON of a busy process is a few hundred KB. */
export const CRASH_SIGNATURE_BODY_LIMIT = 2 * 1024 * 1024;
/** Most frames of the crashing thread: generation looks at the first 40, more are only cost. */
export const MAX_SIGNATURE_FRAMES = 1000;
/** Signatures run a few at a time: a request of 100 does not take every connection of the pool. */
const LOOKUP_CONCURRENCY = 4;

export interface SocorroApiOptions {
  crashIndex: CrashIndex;
  /** The processor's lists (`processor.signature_lists`), so that the answer is the one processing would give. */
  signatureLists: SignatureLists;
  now?: () => number;
}

type JsonObject = Record<string, unknown>;

export class CrashSignatureInputError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** A frame given as text: `module@0xoffset` (no symbols), `@0xaddress` (no module) or a function name, as `mayday signature --frames` takes. */
function frameFromText(text: string): JsonObject {
  const address = /^@(0x[0-9a-f]+)$/i.exec(text);
  if (address) return { offset: address[1] };
  const inModule = /^([^\s@]+)@(0x[0-9a-f]+)$/i.exec(text);
  if (inModule) return { module: inModule[1], module_offset: inModule[2] };
  return { function: text };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The signature input of a request body, in any of the shapes a script may have at hand:
 * - `{frames: [...], reason?, abort_message?, oom_allocation_size?, hang?}`: the crashing
 *   thread's frames, top first, each `{function, module, module_offset, offset, file, line, inlines}`
 *   or a text frame (`frameFromText`);
 * - Socorro's signature generation input: `{crashing_thread, threads: [{frames}], ...}`;
 * - a stackwalker document or a processed crash (with `json_dump`), as the CLI takes.
 */
export function signatureInputFromBody(body: unknown): SignatureInput {
  if (!isObject(body)) throw new CrashSignatureInputError('send a JSON object: {"frames": [{"function": "...", "module": "...", "module_offset": "0x..."}, ...]}');
  let document: JsonObject = body;
  if (body.frames !== undefined) {
    if (!Array.isArray(body.frames)) throw new CrashSignatureInputError('frames must be an array of frames, top of the stack first');
    const frames = body.frames.map((frame, i) => {
      if (typeof frame === 'string') return frameFromText(frame);
      if (isObject(frame)) return frame;
      throw new CrashSignatureInputError(`frames[${i}] is neither a frame object nor a text frame`);
    });
    document = { ...body, json_dump: undefined, crashing_thread: 0, threads: [{ frames }] };
  } else if (body.threads === undefined && body.json_dump === undefined && body.crash_info === undefined) {
    throw new CrashSignatureInputError('no frames: send {"frames": [...]}, Socorro\'s {"crashing_thread": N, "threads": [{"frames": [...]}]}, a stackwalker document or a processed crash');
  }
  // Socorro's signature generation marks hangs with `hang_type` (1: a hang).
  if (body.hang_type === 1 || body.hang_type === '1') document = { ...document, hang: true };
  const input = signatureInputFromCrash(document);
  if (input.frames && input.frames.length > MAX_SIGNATURE_FRAMES) {
    throw new CrashSignatureInputError(`the crashing thread has ${input.frames.length} frames; at most ${MAX_SIGNATURE_FRAMES} are accepted (only the first 40 count)`, 413);
  }
  return input;
}

/** Runs `work` on each item, `concurrency` at a time, answers in the items' order. */
async function mapLimited<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The first crash of one signature: when, and in which build (see `FIRST_BUILD_WINDOW_DAYS`); undefined if never seen. */
export async function signatureFirstDate(crashIndex: CrashIndex, signature: string, now: number): Promise<{ signature: string; first_date: string; first_build: string | null } | undefined> {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  // Only its firstSeen is read: the smallest range keeps the rest of the summary cheap.
  const summary = await crashIndex.signatureSummary({ signature, range: { from: today, to: today + DAY_MS }, facets: [], facetsSize: 1, allowProtected: false });
  if (summary.firstSeen === null) return undefined;
  const window = [
    { field: 'signature', operator: 'is' as const, values: [signature], negated: false },
    { field: 'submitted_timestamp', operator: 'gte' as const, values: [summary.firstSeen], negated: false },
    { field: 'submitted_timestamp', operator: 'lt' as const, values: [summary.firstSeen + FIRST_BUILD_WINDOW_DAYS * DAY_MS], negated: false },
  ];
  const one = (extra: Partial<SearchQuery>): SearchQuery => ({ filters: window, columns: [], sort: [], limit: 1, offset: 0, aggregations: {}, allowProtected: false, ...extra });
  const [first, build] = await Promise.all([
    crashIndex.search(one({ columns: ['submitted_timestamp'], sort: [{ field: 'submitted_timestamp', descending: false }] })),
    crashIndex.search(one({ filters: [...window, { field: 'build_id', operator: 'missing', values: [], negated: true }], columns: ['build_id'], sort: [{ field: 'build_id', descending: false }] })),
  ]);
  const firstDate = first.hits[0]?.submitted_timestamp;
  const firstBuild = build.hits[0]?.build_id;
  return {
    signature,
    // The daily counts knew the day; the row its time (absent only if the row went between the two reads).
    first_date: typeof firstDate === 'string' ? firstDate : new Date(summary.firstSeen).toISOString(),
    first_build: typeof firstBuild === 'string' && firstBuild !== '' ? firstBuild : null,
  };
}

export const socorroApiPlugin: FastifyPluginAsync<SocorroApiOptions> = async (app, options) => {
  const { crashIndex, signatureLists } = options;
  const now = options.now ?? Date.now;

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/api/SignatureFirstDate/', withAccess('public'), async (request, reply) => {
    const given = request.query.signatures;
    // Signatures hold commas (`f(int, char)`): only repeated parameters make a list.
    const signatures = [...new Set((Array.isArray(given) ? given : given === undefined ? [] : [given]).filter((s) => s !== ''))];
    if (signatures.length === 0) return reply.code(400).send({ error: 'give at least one signatures parameter (repeat it for more)' });
    if (signatures.length > MAX_FIRST_DATE_SIGNATURES) return reply.code(400).send({ error: `at most ${MAX_FIRST_DATE_SIGNATURES} signatures per request` });
    const at = now();
    const found = await mapLimited(signatures, LOOKUP_CONCURRENCY, (s) => signatureFirstDate(crashIndex, s, at));
    const hits = found.filter((h) => h !== undefined);
    return { hits, total: hits.length };
  });

  app.post('/api/CrashSignature/', withAccess('public', { bodyLimit: CRASH_SIGNATURE_BODY_LIMIT }), async (request, reply) => {
    let input: SignatureInput;
    try {
      input = signatureInputFromBody(request.body);
    } catch (error) {
      if (error instanceof CrashSignatureInputError) return reply.code(error.status).send({ error: error.message });
      throw error;
    }
    const result = generateSignature(input, signatureLists);
    return { signature: result.signature, proto_signature: result.protoSignature, notes: result.notes, debug: result.debug };
  });
};
