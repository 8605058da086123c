import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requirePermission } from '../../auth/request-auth.js';
import { parseCrashId } from '../../common/crash-id.js';
import { hasPermission } from '../../common/permissions.js';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { RawCrash, RawCrashStore } from '../../ports/raw-crash-store.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../schema/field-catalog.js';
import { withAccess } from '../../auth/route-access.js';

export interface CrashApiOptions {
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
  /** The node's fields: protected declared fields and their annotations are redacted too (default: built-in only). */
  fields?: FieldCatalog;
}

/** The dump a Breakpad client sends, and the one `format=raw` serves without `name=`. */
export const DEFAULT_DUMP_NAME = 'upload_file_minidump';
const DUMP_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Annotations of a raw crash a viewer without `view_protected` must not see: those the
 * collector listed as protected when it received the crash (it knows every alias a client
 * may send them under), and those the node's field catalog declares protected today
 * (which may name more than the collector knew then: a field declared protected later).
 * Lower-cased: names compare case-insensitively, since a client's `email` is still an
 * e-mail address.
 */
export function protectedAnnotationsOf(raw: RawCrash, fields: FieldCatalog = DEFAULT_FIELD_CATALOG): Set<string> {
  return new Set([...fields.protectedAnnotations, ...(raw.metadata.protected_annotations ?? [])].map((n) => n.toLowerCase()));
}

/**
 * Socorro's raw crash document (annotations at the top level beside `metadata`), without
 * protected annotations unless `canViewProtected`. The metadata keeps values of some
 * annotations too (every value of a name sent twice, the bytes of one that was not
 * UTF-8): those of protected names go as well.
 */
export function rawCrashDocument(raw: RawCrash, canViewProtected: boolean, fields: FieldCatalog = DEFAULT_FIELD_CATALOG): Record<string, unknown> {
  if (canViewProtected) return { ...raw.annotations, metadata: raw.metadata, submitted_timestamp: raw.submitted_timestamp, uuid: raw.uuid };
  const hidden = protectedAnnotationsOf(raw, fields);
  const visible = (name: string): boolean => !hidden.has(name.toLowerCase());
  const keep = <T>(record: Record<string, T> | undefined): Record<string, T> | undefined => record && Object.fromEntries(Object.entries(record).filter(([name]) => visible(name)));
  const metadata = { ...raw.metadata, duplicate_annotations: keep(raw.metadata.duplicate_annotations), invalid_utf8_annotations: keep(raw.metadata.invalid_utf8_annotations) };
  for (const key of ['duplicate_annotations', 'invalid_utf8_annotations'] as const) if (metadata[key] === undefined) delete metadata[key];
  return { ...keep(raw.annotations), metadata, submitted_timestamp: raw.submitted_timestamp, uuid: raw.uuid };
}

type Query = Record<string, string | string[] | undefined>;

/**
 * The one value of each named parameter, or the name of one that was repeated: these
 * parameters name one thing, and guessing which of two crash ids was meant would be worse
 * than saying so (400).
 */
function singleParameters<N extends string>(query: Query, names: readonly N[]): { values: Partial<Record<N, string>> } | { repeated: N } {
  const values: Partial<Record<N, string>> = {};
  for (const name of names) {
    const value = query[name];
    if (Array.isArray(value)) return { repeated: name };
    if (value !== undefined) values[name] = value;
  }
  return { values };
}

/** The answer depends on who asks: shared caches must not hand one viewer's answer to another. */
function varyByViewer(reply: FastifyReply): void {
  reply.header('vary', 'Auth-Token, Cookie').header('cache-control', 'private');
}

/**
 * Socorro's `/api/ProcessedCrash/` and `/api/RawCrash/`, with protected data redacted for
 * viewers without `view_protected`, and raw dumps (`format=raw`) for viewers with
 * `download_dumps` only.
 */
export const crashApiPlugin: FastifyPluginAsync<CrashApiOptions> = async (app, options) => {
  const { rawCrashStore, processedCrashStore } = options;
  const fields = options.fields ?? DEFAULT_FIELD_CATALOG;

  app.get<{ Querystring: Query }>('/api/ProcessedCrash/', withAccess('public'), async (request, reply) => {
    const params = singleParameters(request.query, ['crash_id']);
    if ('repeated' in params) return reply.code(400).send({ error: `${params.repeated} may be given only once` });
    const crashId = parseCrashId(params.values.crash_id ?? '');
    if (!crashId) return reply.code(400).send({ error: 'crash_id is missing or is not a crash id' });
    varyByViewer(reply);
    const crash = await processedCrashStore.get(crashId);
    if (!crash) {
      const known = await rawCrashStore.get(crashId);
      return reply.code(404).send({ error: known ? 'crash is not processed yet' : 'crash not found', crash_id: crashId, pending: Boolean(known) });
    }
    return hasPermission(request, 'view_protected') ? crash : fields.redact(crash);
  });

  const downloadDumps = requirePermission('download_dumps');
  app.get<{ Querystring: Query }>('/api/RawCrash/', withAccess('public'), async (request, reply) => {
    const params = singleParameters(request.query, ['crash_id', 'format', 'name']);
    if ('repeated' in params) return reply.code(400).send({ error: `${params.repeated} may be given only once` });
    const crashId = parseCrashId(params.values.crash_id ?? '');
    if (!crashId) return reply.code(400).send({ error: 'crash_id is missing or is not a crash id' });
    const format = params.values.format ?? 'meta';
    if (format !== 'meta' && format !== 'raw') return reply.code(400).send({ error: `format=${format} is not supported; use format=meta or format=raw` });
    varyByViewer(reply);
    if (format === 'raw') return sendDump(request, reply, crashId, params.values.name ?? DEFAULT_DUMP_NAME);
    const raw = await rawCrashStore.get(crashId);
    if (!raw) return reply.code(404).send({ error: 'crash not found', crash_id: crashId });
    return rawCrashDocument(raw, hasPermission(request, 'view_protected'), fields);
  });

  async function sendDump(request: FastifyRequest, reply: FastifyReply, crashId: string, name: string): Promise<FastifyReply> {
    // Public route (anyone may read the redacted metadata); the dump needs download_dumps.
    // Permission first: whether a crash or dump exists is not told to those who may not download it.
    // The guard sends its refusal itself; what its promise resolves to says nothing (a sent
    // reply is a thenable that resolves to undefined), so the reply is asked instead.
    await downloadDumps(request, reply);
    if (reply.sent) return reply;
    if (!DUMP_NAME.test(name)) return reply.code(400).send({ error: `name=${name} is not a dump name` });
    const bytes = await rawCrashStore.getDump(crashId, name);
    if (!bytes) return reply.code(404).send({ error: `crash ${crashId} has no dump ${name}`, crash_id: crashId });
    // Socorro names the main dump <crash id>.dmp and others <crash id>.<name>.dmp.
    const filename = name === DEFAULT_DUMP_NAME ? `${crashId}.dmp` : `${crashId}.${name}.dmp`;
    return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${filename}"`).header('x-content-type-options', 'nosniff').send(bytes);
  }
};
