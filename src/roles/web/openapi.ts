/**
 * Mayday's HTTP API described once, as an OpenAPI 3.1 document, served at
 * `/api/openapi.json` for tools (client generators, Postman, Socorro scripts' authors)
 * and rendered from the same document as a readable page at `/api/`, so the two cannot
 * disagree. A test checks that every route a running node registers under `/api/`
 * appears here, so a new endpoint without documentation fails the build.
 *
 * Super Search's field parameters come from the processed crash schema: the document
 * lists every searchable field with its type and whether it is protected.
 */

import type { FastifyPluginAsync } from 'fastify';

import { versionInfo } from '../../common/version.js';
import { SEARCH_LIMITS } from '../../ports/crash-index.js';
import type { FieldSpec } from '../../schema/processed-crash.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../schema/field-catalog.js';
import { escapeHtml, html, raw, type Html } from './html.js';
import { page } from './layout.js';
import { withAccess } from '../../auth/route-access.js';
import type { Permission } from '../../common/permissions.js';
import { MAX_LOOKUP_VALUES } from './bug-api.js';
import { CRASH_SIGNATURE_BODY_LIMIT, FIRST_BUILD_WINDOW_DAYS, MAX_FIRST_DATE_SIGNATURES, MAX_SIGNATURE_FRAMES } from './socorro-api.js';

type Json = Record<string, unknown>;

const json = (schema: Json = { type: 'object' }, description = 'OK'): Json => ({ description, content: { 'application/json': { schema } } });
const errorBody = (description: string): Json => json({ $ref: '#/components/schemas/Error' }, description);
const text = (description: string, type = 'text/plain'): Json => ({ description, content: { [type]: { schema: { type: 'string' } } } });
const query = (name: string, description: string, schema: Json = { type: 'string' }, required = false): Json => ({ name, in: 'query', description, required, schema });
const CRASH_ID = query('crash_id', 'Crash id (with or without the `bp-` prefix).', { type: 'string', pattern: '^(bp-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{5}[0-9]{7}$' }, true);

/** Security for an operation: anonymous allowed (public data), or a permission needed. */
function access(permission: Permission | undefined, anonymous: boolean): Json {
  const security = anonymous ? [{}, { AuthToken: [] }, { Session: [] }] : [{ AuthToken: [] }, { Session: [] }];
  return { security, ...(permission ? { 'x-permission': permission } : {}) };
}
const refusals = (permission: string): Json => ({
  401: errorBody('No credentials, or an invalid, expired or revoked API token.'),
  403: errorBody(`The token or user lacks the \`${permission}\` permission (or, with a session cookie, the CSRF token is missing).`),
});

/** Socorro's answer of `Bugs` and `SignaturesByBugs`. */
const BUG_HITS: Json = { type: 'object', properties: { hits: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, signature: { type: 'string' } } } }, total: { type: 'integer' } } };
const BUG_LINK_ANSWER: Json = { type: 'object', properties: { signature: { type: 'string' }, bug_id: { type: 'string' }, added: { type: 'boolean' } } };
const BUG_LINK_BODY: Json = {
  required: true,
  content: Object.fromEntries(['application/x-www-form-urlencoded', 'application/json'].map((type) => [type, { schema: { type: 'object', properties: { signature: { type: 'string' }, bug_id: { type: 'string' } }, required: ['signature', 'bug_id'] } }])),
};

function superSearchFieldParameters(fields: FieldCatalog): Json[] {
  const searchable = fields.fields.filter((f) => f.searchable);
  const operators = (f: FieldSpec): string =>
    f.type === 'integer' || f.type === 'number' || f.type === 'date'
      ? 'Prefixes `>`, `>=`, `<`, `<=`; `__null__` for missing.'
      : f.type === 'boolean'
        ? '`__true__`, or `__null__` for missing.'
        : 'Exact by default (repeat for any of several); prefixes `~` contains, `^` starts with, `$` ends with, `@` regex, `=` is, `__null__` missing.';
  return [
    { name: 'date', in: 'query', description: 'Alias of `submitted_timestamp`: date bounds with `>=`/`<`... (default: the last 7 days).', schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true },
    ...searchable.map((f) => ({
      name: f.name,
      in: 'query',
      description: `${f.description} ${operators(f)} A leading \`!\` negates.${f.protected ? ' **Protected**: needs `view_protected`.' : ''}`,
      schema: { type: 'array', items: { type: 'string' } },
      style: 'form',
      explode: true,
      ...(f.protected ? { 'x-permission': 'view_protected' } : {}),
    })),
  ];
}

/** The OpenAPI 3.1 document of every API route, with the node's fields (its declared annotation fields too) as Super Search parameters. */
export function openApiDocument(fields: FieldCatalog = DEFAULT_FIELD_CATALOG): Json {
  const symbolsUpload = {
    post: {
      tags: ['Symbols'],
      summary: 'Upload Breakpad symbols',
      description: 'A `.sym` file, or a zip of `DEBUG_FILE/DEBUG_ID/DEBUG_FILE.sym` files (Tecken\'s and `sym_upload`\'s protocols). `sym_upload` may pass the token as `?token=` (blanked from logs). The answer counts the crashes of the last 7 days that missed the uploaded modules\' symbols (`crashes_missing`, `crash_ids`); with `reprocess=1` (query or form field) and the `reprocess` permission they are queued (`queued_for_reprocessing`; `reprocess_refused` says why not).',
      ...access('upload_symbols', false),
      parameters: [query('token', 'The API token, for clients that cannot send headers.'), query('reprocess', '1: queue the recent crashes that missed these symbols (needs `reprocess` too); 0 (default): only count them.', { type: 'string', enum: ['0', '1'] })],
      requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', additionalProperties: { type: 'string', format: 'binary' } } }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      responses: { 200: json({ type: 'object' }, 'Stored (sym_upload reads only the status: 200 is success).'), 400: errorBody('Not a symbol file, or a bad zip.'), 413: errorBody('Too large.'), 415: errorBody('Neither multipart, a zip nor a symbol file.'), ...refusals('upload_symbols') },
    },
  };
  // Breakpad's `sym_upload -p sym-upload-v2` (src/roles/symbols/sym-upload-v2.ts). Its client reads
  // JSON fields by pattern and checks no status but the PUT's; refusals carry an `error` it prints.
  const v2Key = query('key', 'The API token (`sym_upload -k`), blanked from logs; or the `Auth-Token` header.');
  const v2Base = 'Base URL `/symbols` (`sym_upload -p sym-upload-v2 -k TOKEN FILE.sym https://HOST/symbols`); the same routes under `/symbols/reprocess/v1/...` also queue the recent crashes that missed the stored module (needs `reprocess`).';
  const symUploadV2: Record<string, Json> = {
    '/symbols/v1/symbols/{debugFile}/{debugIdAction}': {
      get: {
        tags: ['Symbols'],
        summary: 'sym_upload v2: is this symbol file stored? (`DEBUG_ID:checkStatus`)',
        description: `${v2Base} \`debugIdAction\` is \`DEBUG_ID:checkStatus\`. Answers \`{"status": "FOUND"}\` or \`"MISSING"\`.`,
        ...access('upload_symbols', false),
        parameters: [{ name: 'debugFile', in: 'path', required: true, schema: { type: 'string' } }, { name: 'debugIdAction', in: 'path', required: true, description: '`DEBUG_ID:checkStatus`', schema: { type: 'string' } }, v2Key],
        responses: { 200: json({ type: 'object', properties: { status: { type: 'string', enum: ['FOUND', 'MISSING'] }, debug_file: { type: 'string' }, debug_id: { type: 'string' } } }), 400: errorBody('No symbol file can have that name.'), 404: errorBody('Not `DEBUG_ID:checkStatus`.'), ...refusals('upload_symbols') },
      },
    },
    '/symbols/v1/uploads:create': {
      post: {
        tags: ['Symbols'],
        summary: 'sym_upload v2: start an upload',
        description: `${v2Base} Answers \`uploadUrl\` (to PUT the file to) and \`uploadKey\` (to complete it with). An upload not completed within 30 minutes is removed; a token may have 20 waiting.`,
        ...access('upload_symbols', false),
        parameters: [v2Key],
        responses: { 200: json({ type: 'object', properties: { uploadUrl: { type: 'string' }, uploadKey: { type: 'string' }, expires_in_seconds: { type: 'integer' } } }), 413: errorBody('A body (none is needed) over 64 KiB.'), 429: errorBody('Too many uploads waiting to be completed.'), ...refusals('upload_symbols') },
      },
    },
    '/symbols/v1/uploads/{uploadKey}': {
      put: {
        tags: ['Symbols'],
        summary: 'sym_upload v2: the upload URL (PUT the .sym file)',
        description: 'Like a signed URL, the unguessable upload key is the credential: no token is sent here. Nothing is stored until the upload is completed.',
        security: [{}],
        parameters: [{ name: 'uploadKey', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } }, 'text/plain': { schema: { type: 'string' } } } },
        responses: { 200: json({ type: 'object', properties: { bytes: { type: 'integer' } } }), 400: errorBody('The body broke off.'), 404: errorBody('Unknown upload key.'), 409: errorBody('The upload is being received or completed already.'), 410: errorBody('The upload expired.'), 413: errorBody('Larger than `symbols.max_upload_size`.'), 415: errorBody('Labelled as something other than a symbol file.') },
      },
    },
    '/symbols/v1/uploads/{uploadKeyAction}': {
      post: {
        tags: ['Symbols'],
        summary: 'sym_upload v2: complete an upload (`UPLOAD_KEY:complete`)',
        description: `${v2Base} \`uploadKeyAction\` is \`UPLOAD_KEY:complete\`; the body \`{ symbol_id: { debug_file, debug_id }, symbol_upload_type: "BREAKPAD" }\` (JSON, or sym_upload's bare keys). The file is validated as \`/symbols/upload\` validates it (its MODULE line must name that debug file and id) and stored. Answers \`{"result": "OK"}\` (\`"DUPLICATE_DATA"\` when the same bytes were stored already) with the missing-symbols report of \`/symbols/upload\`; \`reprocess=1\` queues those crashes as the \`/symbols/reprocess\` base does.`,
        ...access('upload_symbols', false),
        parameters: [{ name: 'uploadKeyAction', in: 'path', required: true, description: '`UPLOAD_KEY:complete`', schema: { type: 'string' } }, v2Key, query('reprocess', '1: queue the recent crashes that missed the module (needs `reprocess` too).', { type: 'string', enum: ['0', '1'] })],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { symbol_id: { type: 'object', properties: { debug_file: { type: 'string' }, debug_id: { type: 'string' } } }, symbol_upload_type: { type: 'string', enum: ['BREAKPAD'] } } } } } },
        responses: {
          200: json({ type: 'object', properties: { result: { type: 'string', enum: ['OK', 'DUPLICATE_DATA'] }, debug_file: { type: 'string' }, debug_id: { type: 'string' }, crashes_missing: { type: 'integer' }, crash_ids: { type: 'array', items: { type: 'string' } }, queued_for_reprocessing: { type: 'integer' }, reprocess_refused: { type: 'string' } } }),
          400: errorBody('Not a (valid) symbol file, a MODULE line naming another debug file or id, a type other than BREAKPAD, or a malformed body.'),
          404: errorBody('Unknown upload key (or another token\'s), or not `UPLOAD_KEY:complete`.'),
          409: errorBody('Nothing was PUT yet, or it is still being received.'),
          410: errorBody('The upload expired.'),
          413: errorBody('A body over 64 KiB.'),
          415: errorBody('A body that is not JSON.'),
          ...refusals('upload_symbols'),
        },
      },
    },
  };
  const paths: Record<string, Json> = {
    '/submit': {
      post: {
        tags: ['Collector'],
        summary: 'Submit a crash report (Breakpad / Crashpad / Electron protocol)',
        description: 'Annotations as form fields and dumps as files (`upload_file_minidump`); optionally gzip-compressed. Answers once the crash is stored and queued.',
        security: [{}],
        requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { upload_file_minidump: { type: 'string', format: 'binary' }, ProductName: { type: 'string' }, Version: { type: 'string' } }, additionalProperties: { type: 'string' } } } } },
        responses: {
          200: text('`CrashID=bp-<id>` when accepted, `Discarded=<rule>` when throttled.'),
          400: text('Malformed submission.'),
          408: text('The body came too slowly or stopped (`Discarded=too_slow`, `deadline`).'),
          413: text('Too large, or too many annotations or dumps.'),
          500: text('Storage failed; the client should retry.'),
          503: text('Too many submissions at once (`Error=too_busy`); `Retry-After` says when to retry.'),
        },
      },
    },
    '/symbols/upload': symbolsUpload,
    ...symUploadV2,
    '/api/ProcessedCrash/': {
      get: {
        tags: ['Crashes'],
        summary: 'A processed crash',
        description: "Socorro's processed crash document (the stackwalker's output under `json_dump`). Protected fields (`url`, `email`, `user_comments`, `app_notes`, ...) are left out unless the viewer has `view_protected`.",
        ...access(undefined, true),
        parameters: [CRASH_ID],
        responses: { 200: json({ $ref: '#/components/schemas/ProcessedCrash' }), 400: errorBody('Missing or malformed crash id, or `crash_id` given more than once.'), 404: errorBody('Unknown crash, or not processed yet (`pending: true`).') },
      },
    },
    '/api/RawCrash/': {
      get: {
        tags: ['Crashes'],
        summary: 'A raw crash: its annotations, or one of its dumps',
        description: '`format=meta` (default): the annotations as received beside `metadata`; protected annotations are left out unless the viewer has `view_protected`. `format=raw`: the bytes of the dump `name` (default `upload_file_minidump`) as an attachment; needs `download_dumps`.',
        ...access(undefined, true),
        parameters: [CRASH_ID, query('format', 'meta or raw.', { type: 'string', enum: ['meta', 'raw'], default: 'meta' }), query('name', 'The dump to download with `format=raw`.', { type: 'string', default: 'upload_file_minidump' })],
        responses: {
          200: { description: 'The raw crash (meta) or the dump bytes (raw).', content: { 'application/json': { schema: { type: 'object', properties: { metadata: { type: 'object' }, uuid: { type: 'string' }, submitted_timestamp: { type: 'string' } }, additionalProperties: { type: 'string' } } }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          400: errorBody('Bad crash id, format or dump name, or one of them given more than once.'),
          404: errorBody('Unknown crash or dump.'),
          ...refusals('download_dumps'),
        },
      },
    },
    '/api/SuperSearch/': {
      get: {
        tags: ['Search'],
        summary: 'Search processed crashes (Socorro\'s Super Search)',
        description:
          `Filters on any searchable field, with columns, sort, pagination and facets. Naming a protected field anywhere without \`view_protected\` is refused with 403. Bounded work: at most ${SEARCH_LIMITS.maxAggregations} facets and aggregations (nested ones included), nested ${SEARCH_LIMITS.maxAggregationDepth} levels deep, ${SEARCH_LIMITS.maxFacetBuckets.toLocaleString('en')} buckets in all, ${SEARCH_LIMITS.maxFilterValues} filter values, ${SEARCH_LIMITS.maxRegexFilters} regular expressions (RE2 syntax: no backreferences or lookaround; at most ${SEARCH_LIMITS.maxRegexLength} characters); past them, 400 naming the limit. A parameter taking one value (\`_results_number\`, \`_facets_size\`, ...) uses the first when repeated.`,
        ...access(undefined, true),
        parameters: [
          ...superSearchFieldParameters(fields),
          query('_columns', 'Fields to return (repeatable); default uuid, date, signature, product, version.', { type: 'array', items: { type: 'string' } }),
          query('_sort', 'Sort fields (repeatable), `-` for descending.', { type: 'array', items: { type: 'string' } }),
          query('_results_number', 'Hits per page (0-1000).', { type: 'integer', default: 100, minimum: 0, maximum: 1000 }),
          query('_results_offset', 'Hits to skip.', { type: 'integer', default: 0, minimum: 0 }),
          query('_facets', 'Fields to count values of (repeatable), or `_cardinality.<field>`; default signature.', { type: 'array', items: { type: 'string' } }),
          query('_facets_size', 'Buckets per facet.', { type: 'integer', default: 50, minimum: 0, maximum: SEARCH_LIMITS.maxFacetSize }),
          { name: '_aggs.{field}', in: 'query', description: 'Nested facets: for each value of `{field}`, count the values of the named fields.', schema: { type: 'string' }, 'x-pattern': true },
          { name: '_histogram.{field}', in: 'query', description: 'Histogram of a date or integer field, with nested facets of the named fields.', schema: { type: 'string' }, 'x-pattern': true },
          query('_histogram_interval.{field}', 'Histogram interval (`1d`, `1h`, or a number for integers).'),
        ],
        responses: { 200: json({ $ref: '#/components/schemas/SearchResult' }), 400: errorBody('Unknown field, bad value or operator, a limit passed, or a search stopped for taking too long.'), 403: errorBody('A protected field was named without `view_protected`.') },
      },
    },
    '/api/SuperSearchFields/': {
      get: { tags: ['Search'], summary: 'Every Super Search field (Socorro\'s shape)', ...access(undefined, true), responses: { 200: json({ type: 'object', additionalProperties: { type: 'object' } }) } },
    },
    '/api/Reprocessing/': {
      post: {
        tags: ['Processing'],
        summary: 'Queue crashes for reprocessing',
        description: 'Exactly one of `crash_ids` (repeatable; Socorro answers `true`), `signature`, `query` (a Super Search query string), or `missing_symbols` (`all`, or `DEBUG_FILE/DEBUG_ID`: the crashes of the last `days` days, default 7, that missed those symbols); `ruleset` picks the rules (default `default`, or `signature`).',
        ...access('reprocess', false),
        requestBody: {
          required: true,
          content: Object.fromEntries(
            ['application/x-www-form-urlencoded', 'application/json'].map((type) => [
              type,
              { schema: { type: 'object', properties: { crash_ids: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }, signature: { type: 'string' }, query: { type: 'string' }, missing_symbols: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 365 }, ruleset: { type: 'string' } } } },
            ]),
          ),
        },
        responses: { 200: json({ oneOf: [{ const: true }, { type: 'object', properties: { queued: { type: 'integer' }, crash_ids: { type: 'array', items: { type: 'string' } } } }] }), 400: errorBody('Bad request.'), 404: errorBody('Unknown crash ids.'), 413: errorBody('Too many crashes.'), ...refusals('reprocess') },
      },
    },
    '/api/DeadLetters/': {
      get: { tags: ['Processing'], summary: 'Crashes the processor gave up on', ...access('reprocess', false), responses: { 200: json({ type: 'object', properties: { total: { type: 'integer' }, hits: { type: 'array', items: { type: 'object' } } } }), ...refusals('reprocess') } },
      post: {
        tags: ['Processing'],
        summary: 'Retry one dead letter',
        ...access('reprocess', false),
        requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { crash_id: { type: 'string' } }, required: ['crash_id'] } }, 'application/json': { schema: { type: 'object', properties: { crash_id: { type: 'string' } }, required: ['crash_id'] } } } },
        responses: { 200: json({ type: 'object', properties: { retried: { type: 'string' } } }), 400: errorBody('Bad crash id.'), 404: errorBody('No dead letter for this crash.'), ...refusals('reprocess') },
      },
    },
    '/api/MissingSymbols/': {
      get: {
        tags: ['Symbols'],
        summary: 'Modules crashes needed symbols for and did not have',
        ...access(undefined, true),
        parameters: [query('days', 'Days to look back.', { type: 'integer', minimum: 1 }), query('limit', 'Rows.', { type: 'integer', default: 100 }), query('offset', 'Rows to skip.', { type: 'integer', default: 0 }), query('format', 'json or csv.', { type: 'string', enum: ['json', 'csv'], default: 'json' })],
        responses: { 200: { description: 'OK', content: { 'application/json': { schema: { type: 'object' } }, 'text/csv': { schema: { type: 'string' } } } }, 400: errorBody('Bad parameter.') },
      },
    },
    '/api/ReprocessMissingSymbols/': {
      post: {
        tags: ['Symbols'],
        summary: 'Reprocess the recent crashes that missed one module\'s symbols',
        ...access('reprocess', false),
        parameters: [query('debug_file', 'Debug file name.'), query('debug_id', 'Debug id.'), query('days', 'Days to look back.', { type: 'integer' })],
        responses: { 200: json(), 400: errorBody('debug_file and debug_id are required.'), ...refusals('reprocess') },
      },
    },
    '/api/Bugs/': {
      get: {
        tags: ['Bugs'],
        summary: "The bugs linked to some signatures (Socorro's `Bugs`)",
        description: `Each signature's links, newest first, in the order the signatures were asked. \`id\` is the tracker's bug id as text (\`1234\`, \`PROJ-123\`); Socorro's are Bugzilla numbers. At most ${MAX_LOOKUP_VALUES} signatures.`,
        ...access(undefined, true),
        parameters: [{ ...query('signatures', 'A signature, exactly (repeat for more; commas are part of a signature).', { type: 'array', items: { type: 'string' } }, true), style: 'form', explode: true }],
        responses: { 200: json(BUG_HITS), 400: errorBody('No signature given, too many, or one too long.') },
      },
    },
    '/api/SignaturesByBugs/': {
      get: {
        tags: ['Bugs'],
        summary: "The signatures linked to some bugs (Socorro's `SignaturesByBugs`)",
        description: `By bug id, then signature. At most ${MAX_LOOKUP_VALUES} bug ids.`,
        ...access(undefined, true),
        parameters: [{ ...query('bug_ids', 'A bug id (repeat, or separate with commas).', { type: 'array', items: { type: 'string' } }, true), style: 'form', explode: true }],
        responses: { 200: json(BUG_HITS), 400: errorBody('No bug id given, too many, or one that is not a bug id.') },
      },
    },
    '/api/BugLinks/': {
      post: {
        tags: ['Bugs'],
        summary: 'Link a bug to a signature',
        description: 'Form or JSON fields `signature` (exact) and `bug_id` (the tracker\'s id: letters, digits and `. _ / # : -`, at most 100). Answers 201 when the link is new, 200 when it existed. The link records who made it.',
        ...access('link_bugs', false),
        requestBody: BUG_LINK_BODY,
        responses: { 201: json(BUG_LINK_ANSWER, 'Linked.'), 200: json(BUG_LINK_ANSWER, 'Already linked; nothing changed.'), 400: errorBody('Missing signature or bug id, or a bug id of the wrong shape.'), 413: errorBody('Body too large.'), 415: errorBody('Neither a form nor JSON.'), ...refusals('link_bugs') },
      },
      delete: {
        tags: ['Bugs'],
        summary: 'Unlink a bug from a signature',
        description: '`signature` and `bug_id` in a form or JSON body, or in the query string (for clients that send no body with DELETE).',
        ...access('link_bugs', false),
        parameters: [query('signature', 'The signature (if not in the body).'), query('bug_id', 'The bug id (if not in the body).')],
        requestBody: { ...BUG_LINK_BODY, required: false },
        responses: { 200: json({ type: 'object', properties: { signature: { type: 'string' }, bug_id: { type: 'string' }, removed: { const: true } } }, 'Unlinked.'), 400: errorBody('Missing signature or bug id, or a bug id of the wrong shape.'), 404: errorBody('This bug is not linked to this signature.'), 413: errorBody('Body too large.'), 415: errorBody('Neither a form nor JSON.'), ...refusals('link_bugs') },
      },
    },
    '/reprocess': {
      post: {
        tags: ['Processing'],
        summary: "The pages' Reprocess buttons: queue crashes, then go back",
        description: 'Form fields: `crash_id`; or `signature` with `product`, `from`, `to` (YYYY-MM-DD, `to` inclusive; default the last 7 days); or `debug_file` and `debug_id`, or `missing_symbols=all`, with `days` (default 7). `return_to` (a path of this site) and the session\'s `csrf_token`. Answers 303 to `return_to` with `reprocessed=N`; errors are HTML pages.',
        ...access('reprocess', false),
        requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { crash_id: { type: 'string' }, signature: { type: 'string' }, product: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, debug_file: { type: 'string' }, debug_id: { type: 'string' }, missing_symbols: { const: 'all' }, days: { type: 'integer' }, return_to: { type: 'string' }, csrf_token: { type: 'string' } } } } } },
        responses: { 303: { description: 'Queued: back to `return_to`.' }, 400: text('No selection, several, or a bad value or return_to.', 'text/html'), 404: text('No such crash.', 'text/html'), 413: errorBody('Body too large, or the selection holds too many crashes.'), 415: errorBody('Not a form.'), ...refusals('reprocess') },
      },
    },
    '/signature/bugs': {
      post: {
        tags: ['Bugs'],
        summary: "The signature page's form: link or unlink a bug, then go back",
        description: 'Form fields `signature`, `bug_id`, `action` (`add`, default, or `remove`), `return_to` (a path of this site, starting with one `/`; default the signature page) and the session\'s `csrf_token`. Answers 303 to `return_to`; errors are HTML pages.',
        ...access('link_bugs', false),
        requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { signature: { type: 'string' }, bug_id: { type: 'string' }, action: { type: 'string', enum: ['add', 'remove'] }, return_to: { type: 'string' }, csrf_token: { type: 'string' } }, required: ['signature', 'bug_id'] } } } },
        responses: { 303: { description: 'Done: back to `return_to`.' }, 400: text('Missing or bad signature, bug id, action or return_to.', 'text/html'), 413: errorBody('Body too large.'), 415: errorBody('Not a form.'), ...refusals('link_bugs') },
      },
    },
    '/api/SignatureFirstDate/': {
      get: {
        tags: ['Signatures'],
        summary: "When signatures were first seen, and in which build (Socorro's `SignatureFirstDate`)",
        description: `\`first_date\`: the first crash of the signature the index still holds; \`first_build\`: the lowest \`build_id\` among its crashes of its first ${FIRST_BUILD_WINDOW_DAYS} days seen (null if none had one). Signatures never seen are left out. At most ${MAX_FIRST_DATE_SIGNATURES} signatures.`,
        ...access(undefined, true),
        parameters: [{ ...query('signatures', 'A signature, exactly (repeat for more).', { type: 'array', items: { type: 'string' } }, true), style: 'form', explode: true }],
        responses: {
          200: json({ type: 'object', properties: { hits: { type: 'array', items: { type: 'object', properties: { signature: { type: 'string' }, first_date: { type: 'string', format: 'date-time' }, first_build: { type: ['string', 'null'] } } } }, total: { type: 'integer' } } }),
          400: errorBody('No signature given, or too many.'),
        },
      },
    },
    '/api/CrashSignature/': {
      post: {
        tags: ['Signatures'],
        summary: 'The signature of a stack, and how it was made',
        description: `JSON: \`{"frames": [...]}\` (the crashing thread, top first; each frame \`{function, module, module_offset, offset, file, line, inlines}\`, or text: a function name, \`module@0xoffset\`, \`@0xaddress\`), with optional \`reason\`, \`abort_message\`, \`oom_allocation_size\`, \`hang\`; or Socorro's signature generation input \`{"crashing_thread": N, "threads": [{"frames": [...]}], ...}\`; or a stackwalker document or processed crash. Uses the processor's signature lists. At most ${MAX_SIGNATURE_FRAMES} frames in the crashing thread and ${CRASH_SIGNATURE_BODY_LIMIT / 1024 / 1024} MB.`,
        ...access(undefined, true),
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { frames: { type: 'array', items: { oneOf: [{ type: 'object' }, { type: 'string' }] } }, crashing_thread: { type: 'integer' }, threads: { type: 'array', items: { type: 'object' } }, reason: { type: 'string' }, abort_message: { type: 'string' }, oom_allocation_size: { type: 'integer' }, hang: { type: 'boolean' } } } } } },
        responses: {
          200: json({ type: 'object', properties: { signature: { type: 'string' }, proto_signature: { type: 'string' }, notes: { type: 'array', items: { type: 'string' } }, debug: { type: 'array', items: { type: 'string' }, description: 'One line per frame (kept, skipped, why) and per special case.' } } }),
          400: errorBody('Not a JSON object, or no frames in it.'),
          413: errorBody('Too many frames, or a body too large.'),
          415: errorBody('Not JSON.'),
        },
      },
    },
    '/api/openapi.json': { get: { tags: ['Meta'], summary: 'This document', security: [{}], responses: { 200: json({ type: 'object' }) } } },
    '/api/': { get: { tags: ['Meta'], summary: 'This document as a readable page', security: [{}], responses: { 200: text('HTML', 'text/html') } } },
    '/status/json': { get: { tags: ['Operations'], summary: 'Processing status: queues, processors, times, history', security: [{}], responses: { 200: json({ type: 'object' }) } } },
    '/api/ops/jobs': {
      get: {
        tags: ['Operations'],
        summary: "The scheduler's jobs: last run, last success, failures in a row, next run, recent runs (Socorro's crontabber state)",
        security: [{}],
        responses: { 200: json({ type: 'object' }) },
      },
    },
    '/api/ops/overview': {
      get: {
        tags: ['Operations'],
        summary: 'The Operations Dashboard: every component (status up, stale or down by its last heartbeat; its figures), the queues, the problems to look at first, firing and pending alerts, and the running topology',
        description: 'Open to anyone while the deployment has no accounts (no users, no API tokens); then it needs the `view_ops` permission (read-only, for monitoring tokens; `admin` implies it). Figures are described in docs/operations.md.',
        ...access('view_ops', false),
        responses: { 200: json({ type: 'object' }), ...refusals('view_ops') },
      },
    },
    '/api/ops/components': { get: { tags: ['Operations'], summary: 'Every registered node with its status and figures (down ones stay until removed)', ...access('view_ops', false), responses: { 200: json({ type: 'object' }), ...refusals('view_ops') } } },
    '/api/ops/components/{id}': {
      delete: {
        tags: ['Operations'],
        summary: 'Remove a node from the registry (one that is gone for good; a running node registers again at its next heartbeat)',
        ...access('admin', false),
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The registry id, NAME@MACHINE:PID' }],
        responses: { 204: { description: 'Removed' }, 404: errorBody('No such node.'), ...refusals('admin') },
      },
    },
    '/api/ops/queues': { get: { tags: ['Operations'], summary: 'Each queue: waiting, in flight, age of the oldest waiting crash', ...access('view_ops', false), responses: { 200: json({ type: 'object' }), ...refusals('view_ops') } } },
    '/api/ops/stream': {
      get: {
        tags: ['Operations'],
        summary: 'The overview as Server-Sent Events (`event: overview`, every 2 s), for live pages',
        ...access('view_ops', false),
        responses: { 200: text('Server-Sent Events', 'text/event-stream'), ...refusals('view_ops') },
      },
    },
    '/api/ops/history': {
      get: {
        tags: ['Operations'],
        summary: "A component's figures over time: one-minute points for the last 24 h, ten-minute means (maxima for p95/p99/max figures) for 7 days",
        ...access('view_ops', false),
        parameters: [
          { name: 'component', in: 'query', required: true, schema: { type: 'string' }, description: 'A node as NAME@HOST (a bare name when one registered node has it), or queue:NAME' },
          { name: 'from', in: 'query', schema: { type: 'integer' }, description: 'ms since epoch (default: 24 h ago)' },
          { name: 'to', in: 'query', schema: { type: 'integer' }, description: 'ms since epoch (default: now); at most 8 days after from' },
          { name: 'metric', in: 'query', schema: { type: 'array', items: { type: 'string' } }, description: 'Only these figures' },
        ],
        responses: { 200: json({ type: 'object', properties: { resolution: { type: 'string' }, stepMs: { type: 'integer' }, points: { type: 'array', items: { type: 'object' } } } }), 400: errorBody('A bad range or component, or a bare name several nodes share.'), 404: errorBody('This node keeps no history.'), ...refusals('view_ops') },
      },
    },
    '/__lbheartbeat__': { get: { tags: ['Operations'], summary: 'Liveness (no dependency checks)', security: [{}], responses: { 200: json() } } },
    '/__heartbeat__': { get: { tags: ['Operations'], summary: 'Health of every storage and queue the node uses', security: [{}], responses: { 200: json(), 500: json({ type: 'object' }, 'A check failed.') } } },
    '/__version__': { get: { tags: ['Operations'], summary: 'What is running', security: [{}], responses: { 200: json() } } },
    '/metrics': { get: { tags: ['Operations'], summary: 'Prometheus metrics', security: [{}], responses: { 200: text('Prometheus text format') } } },
  };
  // Socorro's SuperSearchUnredacted: Super Search's parameters and answer, for callers with view_protected only.
  const superSearch = (paths['/api/SuperSearch/'] as { get: Json }).get;
  paths['/api/SuperSearchUnredacted/'] = {
    get: {
      ...superSearch,
      summary: 'Search processed crashes, protected fields included (Socorro\'s SuperSearchUnredacted)',
      description: `Super Search for callers who may see protected data: the parameters, bounds and answer of \`/api/SuperSearch/\`, protected fields allowed in filters, columns, sorts and facets. Needs \`view_protected\` for the request itself (401 without credentials, 403 without the permission); the answer is never stored by shared caches.`,
      ...access('view_protected', false),
      responses: { 200: json({ $ref: '#/components/schemas/SearchResult' }), 400: errorBody('Unknown field, bad value or operator, a limit passed, or a search stopped for taking too long.'), ...refusals('view_protected') },
    },
  };
  addCommonAnswers(paths);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mayday API',
      version: versionInfo().version,
      description:
        'Crash ingestion and Crash Stats API, compatible with Socorro where Socorro has the endpoint. Authenticate with an API token in the `Auth-Token` header (`mayday tokens create`); anonymous callers see public data only. Browser sessions (the login cookie) work too, and need the session\'s CSRF token in `X-CSRF-Token` for POST requests.',
    },
    components: {
      securitySchemes: {
        AuthToken: { type: 'apiKey', in: 'header', name: 'Auth-Token', description: 'An API token; its permissions are capped by its user\'s.' },
        Session: { type: 'apiKey', in: 'cookie', name: 'mayday_session', description: 'The web login; state-changing requests also need `X-CSRF-Token`.' },
      },
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
        ProcessedCrash: {
          type: 'object',
          properties: Object.fromEntries(fields.fields.map((f) => [f.name, { description: f.description + (f.protected ? ' (protected)' : ''), ...(f.protected ? { 'x-protected': true } : {}) }])),
        },
        SearchResult: { type: 'object', properties: { hits: { type: 'array', items: { type: 'object' } }, total: { type: 'integer' }, facets: { type: 'object' }, errors: { type: 'array' } } },
      },
    },
    paths,
  };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The routes `web.api_rate_limit` counts (`src/node/rate-limits.ts`): the API's. */
const RATE_LIMITED = (path: string): boolean => path.startsWith('/api/') && path !== '/api/openapi.json' && path !== '/api/';

/**
 * Answers every operation may give whatever it does, added where an operation does not
 * say more: a made-up `Auth-Token` is refused with 401 on every route (anonymous callers
 * leave the header out), a body of a type the operation does not take is 415, the API is
 * rate-limited per client (429) and answers 503 while its database, storage or queue is
 * away. The OpenAPI-versus-responses test checks these against a running node.
 */
function addCommonAnswers(paths: Record<string, Json>): void {
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const responses = (op.responses ?? {}) as Record<string, Json>;
      responses[401] ??= errorBody('An `Auth-Token` header that is not a valid, unexpired, unrevoked token (to call anonymously, leave the header out).');
      if (op.requestBody) responses[415] ??= errorBody('A body of a type this operation does not take.');
      if (RATE_LIMITED(path)) {
        responses[429] ??= errorBody('Past this client\'s `web.api_rate_limit` requests a minute; `Retry-After` says when to come back.');
        responses[503] ??= errorBody('The database, storage or queue is unavailable; `Retry-After` says when to retry.');
      }
      op.responses = responses;
    }
  }
}

/** The document's descriptions use CommonMark's `code` and **strong**: rendered here, after escaping everything. */
export function inlineMarkdown(text: string): Html {
  return raw(
    escapeHtml(text)
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>'),
  );
}

/** The readable docs page: every operation with its access, parameters and answers. */
export function apiDocsPage(document: Json): string {
  const paths = document.paths as Record<string, Record<string, Json>>;
  const operations: Html[] = [];
  const contents: Html[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const security = (op.security as Json[] | undefined) ?? [];
      const permission = op['x-permission'] as string | undefined;
      const who = security.some((s) => Object.keys(s).length === 0) ? (permission ? `anyone; more with ${permission}` : 'anyone') : `needs ${permission ?? 'a token'}`;
      const parameters = (op.parameters as Json[] | undefined) ?? [];
      const responses = Object.entries((op.responses as Record<string, Json>) ?? {});
      contents.push(html`<li><a href="#${`${method}-${path}`}"><span class="mono">${method.toUpperCase()} ${path}</span></a> <span class="muted">${String(op.summary ?? '')}</span></li>`);
      operations.push(html`<section class="card" id="${`${method}-${path}`}">
<h2 style="margin-top:0"><span class="badge ${method === 'get' ? 'ok' : 'warn'}">${method.toUpperCase()}</span> <code>${path}</code> <span class="muted" style="font-weight:400">${String(op.summary ?? '')}</span></h2>
<p class="muted">Access: ${who}</p>
${op.description ? html`<p>${inlineMarkdown(String(op.description))}</p>` : ''}
${parameters.length ? html`<table><thead><tr><th>Parameter</th><th>In</th><th>Description</th></tr></thead><tbody>${parameters.map((p) => html`<tr><td class="mono">${String(p.name)}${p.required ? ' *' : ''}</td><td>${String(p.in)}</td><td>${inlineMarkdown(String(p.description ?? ''))}</td></tr>`)}</tbody></table>` : ''}
<p>${responses.map(([code, r]) => html`<span class="badge ${code.startsWith('2') ? 'ok' : 'err'}">${code}</span> ${inlineMarkdown(String(r.description ?? ''))} `)}</p>
</section>`);
    }
  }
  const info = document.info as Json;
  return page(
    'API',
    html`<h1>${String(info.title)} <span class="badge">${String(info.version)}</span></h1>
<div class="card"><p>${inlineMarkdown(String(info.description))}</p><p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${String(document.openapi)}).</p>
<ul id="api-contents" style="columns:2;margin:0;padding-left:18px">${contents}</ul></div>
${raw(operations.map((o) => o.text).join('\n'))}`,
  );
}

/** Serves `/api/openapi.json` and `/api/`. */
export const openApiPlugin: FastifyPluginAsync<{ fields?: FieldCatalog }> = async (app, options) => {
  const document = openApiDocument(options.fields);
  const docsPage = apiDocsPage(document);
  app.get('/api/openapi.json', withAccess('public'), async () => document);
  app.get('/api/', withAccess('public'), async (_request, reply) => reply.type('text/html; charset=utf-8').send(docsPage));
};
