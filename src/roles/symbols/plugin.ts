/**
 * The symbols role: uploads into the symbol store, the missing-symbols report, and
 * reprocessing of the crashes that missed a module's symbols.
 *
 * - `POST /symbols/upload`: `sym_upload` (v1), a zip, or a bare `.sym` (see
 *   `receiveUpload`); needs `upload_symbols`; the token may come as `?token=` here
 *   because `sym_upload` cannot send headers (the auth layer keeps it out of logs).
 *   All or nothing: the body is staged in a fresh temporary folder, every file is
 *   validated, and only then is each moved into the store (write-then-rename).
 * - `GET /api/MissingSymbols/?days=N&limit=N&offset=N[&format=csv]` and the page
 *   `/missing-symbols/`: public, as in Socorro.
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
import { missingSymbolsPage, toCsv, toJsonRow } from './missing-symbols-report.js';
import { receiveUpload } from './receive-upload.js';
import { UploadRefused, type UploadLimits } from './upload-refused.js';
import { validateSymbolFile, type ValidatedSymbolFile } from './validate-symbol-file.js';
import { withAccess } from '../../auth/route-access.js';

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

export const symbolsPlugin: FastifyPluginAsync<SymbolsRoleOptions> = async (app, options) => {
  const { store, missingSymbols, queue, limits } = options;
  await mkdir(options.stagingDir, { recursive: true });

  await app.register(async (uploads: FastifyInstance) => {
    // The handler streams the body itself (to disk, under its own limits).
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    uploads.post('/symbols/upload', withAccess({ permission: 'upload_symbols' }, { config: { allowQueryToken: true } }), async (request, reply) => {
      const started = performance.now();
      const staging = await mkdtemp(path.join(options.stagingDir, 'upload-'));
      // The staging folder goes before the answer does: a client that got its answer
      // may look at the disk (tests do) or upload again at once.
      const answer = async (code: number, body: unknown, close = false): Promise<FastifyReply> => {
        await rm(staging, { recursive: true, force: true });
        if (close) reply.header('connection', 'close');
        return reply.code(code).send(body);
      };
      try {
        const received = await receiveUpload(request.headers, request.raw as IncomingMessage, staging, limits);
        if (received.files.length === 0) throw new UploadRefused(400, 'the upload holds no .sym file');
        const validated: (ValidatedSymbolFile & { file: string; size: number })[] = [];
        for (const staged of received.files) validated.push({ ...(await validateSymbolFile(staged.file, staged.claim, staged.label)), file: staged.file, size: staged.size });
        for (const file of validated) {
          await store.putFile(file.key, file.file);
          options.onStored?.(file.key);
        }
        request.log.info(
          { user: request.principal?.user, form: received.form, files: validated.length, bytes: received.bodyBytes, ms: Math.round(performance.now() - started) },
          'symbols uploaded',
        );
        return await answer(200, {
          form: received.form,
          files: validated.map((f) => ({ debug_file: f.key.debugFile, debug_id: f.key.debugId, os: f.os, cpu: f.cpu, path: f.storePath, size: f.size })),
        });
      } catch (error) {
        if (error instanceof UploadRefused) {
          request.log.info({ user: request.principal?.user, status: error.statusCode, reason: error.message }, 'symbol upload refused');
          // After refusing mid-body, the rest of the body is not worth reading: close the connection.
          return answer(error.statusCode, { error: error.message }, true);
        }
        request.log.error({ user: request.principal?.user, err: error }, 'symbol upload failed');
        return answer(500, { error: 'storing the symbols failed' }, true);
      }
    });
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

  app.get<{ Querystring: Record<string, string | undefined> }>('/missing-symbols/', withAccess('public'), async (request, reply) => {
    let query;
    try {
      query = listQuery(request);
    } catch (error) {
      if (error instanceof UploadRefused) return reply.code(400).type('text/plain').send(error.message);
      throw error;
    }
    return reply.type('text/html; charset=utf-8').send(missingSymbolsPage(await missingSymbols.list(query), query.days));
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
