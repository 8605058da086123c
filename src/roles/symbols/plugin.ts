/**
 * The symbols role: uploads into the symbol store, the missing-symbols report, and
 * reprocessing of the crashes that missed a module's symbols.
 *
 * - `POST /symbols/upload`: `sym_upload` (v1), a zip, or a bare `.sym` (see
 *   `receiveUpload`); needs `upload_symbols`; the token may come as `?token=` here
 *   because `sym_upload` cannot send headers (the auth layer keeps it out of logs).
 *   All or nothing: the body is staged in a fresh temporary folder, every file is
 *   validated, and only then is each moved into the store (write-then-rename). The
 *   answer (200, which is all `sym_upload` reads) also says how many crashes of the
 *   last 7 days missed the uploaded modules' symbols, and with `reprocess=1` (query or
 *   form field; the token or session also needs `reprocess`) queues them.
 * - `sym_upload -p sym-upload-v2` (check, create, PUT, complete) under `/symbols/v1/...`
 *   and `/symbols/reprocess/v1/...`: `sym-upload-v2.ts`, with the same validation and report.
 * - `POST /missing-symbols/upload`: the same from the missing-symbols page's form (a
 *   session, its CSRF token in the action's query); answers 303 back to the page.
 * - `GET /api/MissingSymbols/?days=N&limit=N&offset=N[&format=csv]` and the page
 *   `/missing-symbols/`: public, as in Socorro; the page is in the site's layout, with
 *   Reprocess buttons (posting to the web role's `/reprocess`) and the upload form for
 *   viewers who may use them.
 * - `POST /api/ReprocessMissingSymbols/` with `debug_file`, `debug_id`, `days` (JSON
 *   body or query): needs `reprocess`; puts the crashes of the last `days` days that
 *   missed that module on the `reprocessing` queue.
 *
 * The request log of the upload route never carries the URL (the token may be in it):
 * this plugin logs outcomes with explicit fields only.
 */

import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';

import type { ProcessingQueue } from '../../ports/queue.js';
import type { MissingSymbolsLog, SymbolKey, SymbolStore } from '../../ports/symbol-store.js';
import { missingSymbolsPage, toCsv, toJsonRow, uploadRefusedPage } from './missing-symbols-report.js';
import { receiveUpload } from './receive-upload.js';
import { symUploadV2Plugin, type MissedReport, type SymUploadV2Options } from './sym-upload-v2.js';
import { UploadRefused, type UploadLimits } from './upload-refused.js';
import { validateSymbolFile, type ValidatedSymbolFile } from './validate-symbol-file.js';
import { withAccess } from '../../auth/route-access.js';
import { CSRF_FIELD, sameCsrfToken } from '../../auth/request-auth.js';
import { hasPermission } from '../../common/permissions.js';

export interface SymbolsRoleOptions {
  store: SymbolStore;
  missingSymbols: MissingSymbolsLog;
  queue: ProcessingQueue;
  /** Uploads are staged in fresh folders under this one (ideally on the store's filesystem, so storing is a rename). */
  stagingDir: string;
  limits: UploadLimits;
  /** Told after each file is stored (the node drops the module from its symbol cache). */
  onStored?: (key: SymbolKey) => void;
  /** Most crashes one reprocessing request may queue. */
  maxReprocess?: number;
  /** sym_upload v2's slot limits (defaults in sym-upload-v2.ts). */
  symUploadV2?: Pick<SymUploadV2Options, 'ttlMs' | 'maxPendingPerToken' | 'maxPending'>;
}

const DEFAULT_DAYS = 7;
const MAX_DAYS = 365;
const DAY_MS = 86_400_000;

function intParam(value: unknown, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UploadRefused(400, `${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** How far back an upload looks for crashes that missed the uploaded modules. */
export const UPLOAD_REPORT_DAYS = 7;
/** Listed modules the missing-symbols page looks up in the symbol store, most frequent first. */
const UPLOADED_CHECK_LIMIT = 100;

/** `reprocess=1|true|on|yes` or `0|false|off|no` (absent: false); anything else is refused. */
export function reprocessOption(value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(v)) return true;
  if (['0', 'false', 'off', 'no'].includes(v)) return false;
  throw new UploadRefused(400, `reprocess must be 1 or 0, got ${JSON.stringify(value.slice(0, 40))}`);
}

/** What an upload did: the stored files, the crashes of the last days that missed them, and how many were queued. */
export interface UploadOutcome {
  form: string;
  files: { debug_file: string; debug_id: string; os: string; cpu: string; path: string; size: number }[];
  /** Crashes of the last `crashes_missing_days` days that missed at least one of the uploaded modules. */
  crashes_missing: number;
  crashes_missing_days: number;
  /** Their ids (the first 1000), so that a client uploading file by file can count each crash once. */
  crash_ids: string[];
  /** How many of them were put on the reprocessing queue (0 unless `reprocess=1`). */
  queued_for_reprocessing: number;
  /** Why they were not queued although `reprocess=1` asked for it. */
  reprocess_refused?: string;
}

export const symbolsPlugin: FastifyPluginAsync<SymbolsRoleOptions> = async (app, options) => {
  const { store, missingSymbols, queue, limits } = options;
  const maxReprocess = options.maxReprocess ?? 10_000;
  await mkdir(options.stagingDir, { recursive: true });

  /** The crashes of the last days that missed any of `keys`, each once. */
  async function crashesMissingAny(keys: readonly SymbolKey[]): Promise<string[]> {
    const since = Date.now() - UPLOAD_REPORT_DAYS * DAY_MS;
    const ids = new Set<string>();
    for (const key of keys) for (const id of await missingSymbols.crashesMissing(key, since, maxReprocess)) if (ids.size < maxReprocess) ids.add(id);
    return [...ids];
  }

  /**
   * Receives, validates and stores one upload (all or nothing), then counts the crashes
   * that missed its modules and queues them when asked. Throws `UploadRefused`.
   */
  async function storeUpload(request: FastifyRequest, staging: string): Promise<UploadOutcome> {
    const started = performance.now();
    const query = request.query as Record<string, string | string[] | undefined>;
    const fromQuery = Array.isArray(query.reprocess) ? query.reprocess[0] : query.reprocess;
    // Asked in the query: refuse a bad value before reading the body.
    let reprocess = reprocessOption(fromQuery);
    const received = await receiveUpload(request.headers, request.raw as IncomingMessage, staging, limits);
    if (fromQuery === undefined) reprocess = reprocessOption(received.fields.get('reprocess'));
    if (received.files.length === 0) throw new UploadRefused(400, 'the upload holds no .sym file');
    const validated: (ValidatedSymbolFile & { file: string; size: number })[] = [];
    for (const staged of received.files) validated.push({ ...(await validateSymbolFile(staged.file, staged.claim, staged.label)), file: staged.file, size: staged.size });
    for (const file of validated) {
      await store.putFile(file.key, file.file);
      options.onStored?.(file.key);
    }
    const report = await reportMissed(request, validated.map((f) => f.key), reprocess);
    request.log.info(
      { user: request.principal?.user ?? request.session?.user, form: received.form, files: validated.length, bytes: received.bodyBytes, missed: report.crashes_missing, queued: report.queued_for_reprocessing, ms: Math.round(performance.now() - started) },
      'symbols uploaded',
    );
    return {
      form: received.form,
      files: validated.map((f) => ({ debug_file: f.key.debugFile, debug_id: f.key.debugId, os: f.os, cpu: f.cpu, path: f.storePath, size: f.size })),
      ...report,
    };
  }

  /** The crashes of the last days that missed `keys`, queued when asked and allowed: every upload's report (v1 and v2). */
  async function reportMissed(request: FastifyRequest, keys: readonly SymbolKey[], reprocess: boolean): Promise<MissedReport> {
    const missed = await crashesMissingAny(keys);
    const mayReprocess = hasPermission(request, 'reprocess');
    const queued = reprocess && mayReprocess ? missed : [];
    for (const id of queued) await queue.enqueue(id, 'reprocessing');
    return {
      crashes_missing: missed.length,
      crashes_missing_days: UPLOAD_REPORT_DAYS,
      crash_ids: missed.slice(0, 1000),
      queued_for_reprocessing: queued.length,
      ...(reprocess && !mayReprocess && missed.length > 0 ? { reprocess_refused: 'queueing them needs the reprocess permission' } : {}),
    };
  }

  // Breakpad's `sym_upload -p sym-upload-v2` (check, create, put, complete): see sym-upload-v2.ts.
  await app.register(symUploadV2Plugin, { store, stagingDir: options.stagingDir, limits, onStored: options.onStored, reportMissed, ...options.symUploadV2 });

  /**
   * Runs an upload in a fresh staging folder, then removes the folder before the answer
   * goes: a client that got its answer may look at the disk (tests do) or upload again at once.
   */
  async function withStaging(run: (staging: string) => Promise<() => FastifyReply>): Promise<FastifyReply> {
    const staging = await mkdtemp(path.join(options.stagingDir, 'upload-'));
    let answer: () => FastifyReply;
    try {
      answer = await run(staging);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return answer();
  }

  /** Logs a failed upload; `refused` when it is the uploader's to fix. */
  function logFailure(request: FastifyRequest, error: unknown): UploadRefused | undefined {
    const user = request.principal?.user ?? request.session?.user;
    if (error instanceof UploadRefused) {
      request.log.info({ user, status: error.statusCode, reason: error.message }, 'symbol upload refused');
      return error;
    }
    request.log.error({ user, err: error }, 'symbol upload failed');
    return undefined;
  }

  await app.register(async (uploads: FastifyInstance) => {
    // The handler streams the body itself (to disk, under its own limits).
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    // sym_upload (v1) reads only the status: 200 is success. The body says the rest.
    uploads.post('/symbols/upload', withAccess({ permission: 'upload_symbols' }, { config: { allowQueryToken: true } }), async (request, reply) =>
      withStaging(async (staging) => {
        try {
          const outcome = await storeUpload(request, staging);
          return () => reply.code(200).send(outcome);
        } catch (error) {
          const refused = logFailure(request, error);
          // After refusing mid-body, the rest of the body is not worth reading: close the connection.
          reply.header('connection', 'close');
          return () => (refused ? reply.code(refused.statusCode).send({ error: refused.message }) : reply.code(500).send({ error: 'storing the symbols failed' }));
        }
      }),
    );

    // The missing-symbols page's upload form: a browser cannot set the CSRF header on a
    // file upload and the body is not parsed before access is decided, so the form's
    // action carries the session's CSRF token in its query (checked here, before the body).
    const csrfInQuery = async (request: FastifyRequest): Promise<void> => {
      const session = request.session;
      if (!session || request.permissions !== undefined || request.principal !== undefined) return;
      const given = (request.query as Record<string, unknown>)[CSRF_FIELD];
      if (sameCsrfToken(Array.isArray(given) ? given[0] : given, session.csrfToken)) request.permissions = session.permissions;
      else request.csrfRejected = true;
    };
    uploads.post('/missing-symbols/upload', withAccess({ permission: 'upload_symbols' }, { onRequest: csrfInQuery }), async (request, reply) =>
      withStaging(async (staging) => {
        try {
          const outcome = await storeUpload(request, staging);
          const notice = new URLSearchParams({ uploaded: String(outcome.files.length), missed: String(outcome.crashes_missing) });
          if (outcome.queued_for_reprocessing > 0) notice.set('reprocessed', String(outcome.queued_for_reprocessing));
          return () => reply.redirect(`/missing-symbols/?${notice}`, 303);
        } catch (error) {
          const refused = logFailure(request, error);
          reply.header('connection', 'close');
          const page = uploadRefusedPage(refused ? refused.message : 'Storing the symbols failed; the server log says why.');
          return () => reply.code(refused?.statusCode ?? 500).type('text/html; charset=utf-8').send(page);
        }
      }),
    );
  });

  const listQuery = (request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>) => {
    const days = intParam(request.query.days, DEFAULT_DAYS, 1, MAX_DAYS, 'days');
    const limit = intParam(request.query.limit, 100, 1, 10_000, 'limit');
    const offset = intParam(request.query.offset, 0, 0, Number.MAX_SAFE_INTEGER, 'offset');
    return { days, limit, offset, since: Date.now() - days * DAY_MS };
  };

  app.get<{ Querystring: Record<string, string | undefined> }>('/api/MissingSymbols/', withAccess('public'), async (request, reply) => {
    let query;
    try {
      query = listQuery(request);
    } catch (error) {
      if (error instanceof UploadRefused) return reply.code(400).send({ error: error.message });
      throw error;
    }
    const rows = await missingSymbols.list(query);
    const format = request.query.format ?? 'json';
    if (format === 'csv') {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="missing-symbols-${query.days}d.csv"`)
        .send(toCsv(rows));
    }
    if (format !== 'json') return reply.code(400).send({ error: `format=${format} is not supported; use json or csv` });
    return { days: query.days, total: rows.length, hits: rows.map(toJsonRow) };
  });

  /**
   * Which of the most frequent listed modules have their symbols in the store now: those
   * crashes only need reprocessing. Bounded, since each is a lookup (a HEAD on S3).
   */
  async function uploadedSince(rows: readonly { debugFile: string; debugId: string }[]): Promise<Set<string>> {
    const checked = rows.slice(0, UPLOADED_CHECK_LIMIT);
    const present = await Promise.all(checked.map((r) => store.has({ debugFile: r.debugFile, debugId: r.debugId }).catch(() => false)));
    return new Set(checked.filter((_, i) => present[i]).map((r) => `${r.debugFile}/${r.debugId}`));
  }

  app.get<{ Querystring: Record<string, string | undefined> }>('/missing-symbols/', withAccess('public'), async (request, reply) => {
    let query;
    try {
      query = listQuery(request);
    } catch (error) {
      if (error instanceof UploadRefused) return reply.code(400).type('text/plain').send(error.message);
      throw error;
    }
    const count = (name: string): number | undefined => {
      const n = Number(request.query[name]);
      return request.query[name] !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
    };
    const rows = await missingSymbols.list(query);
    const page = missingSymbolsPage({
      rows,
      uploaded: await uploadedSince(rows),
      days: query.days,
      csrfToken: request.session?.csrfToken,
      canReprocess: hasPermission(request, 'reprocess'),
      canUpload: hasPermission(request, 'upload_symbols'),
      notice: { reprocessed: count('reprocessed'), uploaded: count('uploaded'), missed: count('missed') },
    });
    // The forms depend on who asks.
    return reply.type('text/html; charset=utf-8').header('vary', 'Auth-Token, Cookie').header('cache-control', 'private').send(page);
  });

  app.post<{ Body: Record<string, unknown> | undefined; Querystring: Record<string, string | undefined> }>(
    '/api/ReprocessMissingSymbols/',
    withAccess({ permission: 'reprocess' }),
    async (request, reply) => {
      const params = { ...request.query, ...(typeof request.body === 'object' && request.body !== null ? request.body : {}) };
      const debugFile = params.debug_file;
      const debugId = params.debug_id;
      if (typeof debugFile !== 'string' || debugFile === '' || typeof debugId !== 'string' || debugId === '') {
        return reply.code(400).send({ error: 'debug_file and debug_id are required' });
      }
      let days: number;
      try {
        days = intParam(params.days, DEFAULT_DAYS, 1, MAX_DAYS, 'days');
      } catch (error) {
        return reply.code(400).send({ error: (error as Error).message });
      }
      const crashIds = await missingSymbols.crashesMissing({ debugFile, debugId }, Date.now() - days * DAY_MS, options.maxReprocess ?? 10_000);
      for (const crashId of crashIds) await queue.enqueue(crashId, 'reprocessing');
      request.log.info({ user: request.principal?.user, debugFile, debugId, days, queued: crashIds.length }, 'reprocessing crashes that missed symbols');
      return { debug_file: debugFile, debug_id: debugId, days, queued: crashIds.length, crash_ids: crashIds };
    },
  );
};
