/**
 * Breakpad's `sym_upload -p sym-upload-v2` protocol (Google's symbol collector API), so
 * that `sym_upload -p sym-upload-v2 -k TOKEN file.sym https://mayday.example/symbols`
 * works as it does against Google's server. With the base `/symbols` the client calls:
 *
 * 1. `GET  /symbols/v1/symbols/{debug_file}/{debug_id}:checkStatus?key=TOKEN`:
 *    `{"status": "FOUND"}` when the store has the file (the client then stops, unless
 *    `-f`), else `"MISSING"`.
 * 2. `POST /symbols/v1/uploads:create?key=TOKEN`: a fresh upload slot, answered as
 *    `{"uploadUrl": "...", "uploadKey": "..."}`.
 * 3. `PUT  {uploadUrl}`: the file, into the slot's staging file. The upload URL is a
 *    capability, like the signed URL Google's server hands out: it carries no token (the
 *    client sends none there), only the slot's unguessable key, and it can only fill a
 *    slot that a token holding `upload_symbols` made and that token must still complete.
 * 4. `POST /symbols/v1/uploads/{uploadKey}:complete?key=TOKEN` with
 *    `{ symbol_id: { debug_file, debug_id }, symbol_upload_type: "BREAKPAD" }` (the
 *    client's not-quite-JSON: bare keys, `Content-Type: application/son`): the staged file
 *    is validated exactly as v1 validates a declared file (its MODULE line must name that
 *    debug file and id), stored, and answered `{"result": "OK"}` (or `"DUPLICATE_DATA"`
 *    when the store already held the same bytes), with the missing-symbols report of a v1
 *    upload beside it. Under the base `/symbols/reprocess` (or with `?reprocess=1` on the
 *    complete call) the crashes that missed the module are queued, as v1's `reprocess=1`.
 *
 * The client reads only those JSON fields, by regular expressions that expect a space after
 * the colon (`"status": "FOUND"`), so answers are written that way. It checks no status
 * code except the PUT's (200), so a refusal is a 4xx with an `error` message that the
 * client prints.
 *
 * `sym_upload` sends the token as `?key=`; `acceptSymUploadV2Key` (part of the node's
 * `rewriteUrl`) renames it to `?token=` on these paths only, so the auth layer takes it
 * and blanks it from every URL that could be logged, exactly as v1's `?token=`.
 *
 * Slots are per node, in memory, with their files in the role's staging folder (where v1
 * stages, so that storing is a rename on the fs store): a slot not completed within `ttlMs` of its
 * creation is removed with its file, and a token may hold at most `maxPendingPerToken`
 * open slots (`maxPending` in all). Behind a load balancer, the four calls of one upload
 * must reach the same node (sticky sessions), since another node does not know the slot.
 */

import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';

import { withAccess } from '../../auth/route-access.js';
import { symbolStorePath, type SymbolKey, type SymbolStore } from '../../ports/symbol-store.js';
import { byteLimit, checkDeclaredLength, receiveToFile } from './receive-body.js';
import { quoteName } from './safe-names.js';
import { UploadRefused, type UploadLimits } from './upload-refused.js';
import { validateSymbolFile } from './validate-symbol-file.js';

/** What an upload report says about the crashes that missed the stored modules (see the role's plugin). */
export interface MissedReport {
  crashes_missing: number;
  crashes_missing_days: number;
  crash_ids: string[];
  queued_for_reprocessing: number;
  reprocess_refused?: string;
}

export interface SymUploadV2Options {
  store: SymbolStore;
  /** The role's staging folder: this protocol's slots get a folder of their own inside it. */
  stagingDir: string;
  limits: UploadLimits;
  /** Told after each file is stored (the node drops the module from its symbol cache). */
  onStored?: (key: SymbolKey) => void;
  /** Counts (and with `reprocess`, queues) the recent crashes that missed `keys`: the role's v1 report. */
  reportMissed: (request: FastifyRequest, keys: readonly SymbolKey[], reprocess: boolean) => Promise<MissedReport>;
  /** How long a slot waits for its complete call (default 30 minutes). */
  ttlMs?: number;
  /** Open slots one token may hold (default 20). */
  maxPendingPerToken?: number;
  /** Open slots in all (default 1000). */
  maxPending?: number;
}

/** Where sym_upload v2's calls arrive: the base `/symbols`, and `/symbols/reprocess` to also queue the crashes. */
const BASES = [
  { prefix: '/symbols', reprocess: false },
  { prefix: '/symbols/reprocess', reprocess: true },
] as const;
/** The paths on which `?key=` is the API token. */
const V2_PATH = /^\/symbols(?:\/reprocess)?\/v1\//;
/** The upload URL handed out by `uploads:create`. */
const UPLOAD_PATH = '/symbols/v1/uploads';

/** Only Breakpad `.sym` files can be validated and stored; native uploads (ELF, PE, PDB...) are refused. */
const BREAKPAD_TYPE = 'BREAKPAD';
const MAX_SMALL_BODY = 64 * 1024;
/** What the complete call's body may be labelled: sym_upload says `application/son` (sic). */
const COMPLETE_TYPES = new Set(['', 'application/json', 'application/son', 'text/plain']);
/** What a PUT file may be labelled: curl sends none; a symbol file is text, or bytes. */
const FILE_TYPES = new Set(['', 'application/octet-stream', 'text/plain']);

/** Refuses (415) a body labelled as something this step does not take, before reading it. */
function checkType(request: FastifyRequest, allowed: ReadonlySet<string>, what: string): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!allowed.has(type)) throw new Refused(415, `${what} is not ${quoteName(type)}: send ${[...allowed].filter(Boolean).join(', ')} or no Content-Type`);
}
const REMEMBERED_EXPIRED = 10_000;
/** Staged files are `sym-upload-v2-KEY.sym` in the role's staging folder, beside v1's upload folders. */
const SLOT_PREFIX = 'sym-upload-v2-';

class Refused extends Error {
  constructor(
    readonly statusCode: 400 | 404 | 409 | 410 | 413 | 415 | 429,
    message: string,
  ) {
    super(message);
  }
}

/**
 * For the node's `rewriteUrl`, before the auth layer's: on this protocol's paths, a
 * `key` query parameter (sym_upload's name for the API key) is renamed `token`, so that the
 * auth layer reads it and redacts it from the URL like v1's `?token=`.
 */
export function acceptSymUploadV2Key<R extends IncomingMessage>(req: R): R {
  if (req.url !== undefined) req.url = symUploadV2KeyAsToken(req.url);
  return req;
}

/** `url` with every `key` parameter renamed `token` when the path is this protocol's; otherwise unchanged. */
export function symUploadV2KeyAsToken(url: string): string {
  const q = url.indexOf('?');
  if (q < 0 || !V2_PATH.test(url.slice(0, q))) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return decodeName(name).toLowerCase() === 'key' ? `token${eq < 0 ? '' : pair.slice(eq)}` : pair;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

/**
 * The body of a complete call: JSON, or what `sym_upload` sends, JSON with bare keys
 * (`{ symbol_id: {debug_file: "f", debug_id: "ID" }, symbol_upload_type: "BREAKPAD" }`).
 */
export function parseCompleteBody(text: string): { debugFile: string; debugId: string; type: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    try {
      parsed = JSON.parse(text.replace(/([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:/g, '$1"$2":'));
    } catch {
      throw new Refused(400, 'the complete request\'s body is not { symbol_id: { debug_file, debug_id }, symbol_upload_type }');
    }
  }
  const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const id = (typeof body.symbol_id === 'object' && body.symbol_id !== null ? body.symbol_id : {}) as Record<string, unknown>;
  const { debug_file: debugFile, debug_id: debugId } = id;
  if (typeof debugFile !== 'string' || debugFile === '' || typeof debugId !== 'string' || debugId === '') {
    throw new Refused(400, 'the complete request needs symbol_id.debug_file and symbol_id.debug_id');
  }
  const type = body.symbol_upload_type ?? BREAKPAD_TYPE;
  if (typeof type !== 'string') throw new Refused(400, 'symbol_upload_type must be a string');
  return { debugFile, debugId, type };
}

/** JSON as sym_upload's regular expressions read it: a space after each colon (`"status": "FOUND"`). */
function clientJson(reply: FastifyReply, status: number, value: object): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(value, null, 1));
}

interface Slot {
  readonly uploadKey: string;
  /** Who made it (`token:ID` or `user:NAME`): only they may complete it. */
  readonly owner: string;
  readonly expiresAt: number;
  readonly file: string;
  state: 'empty' | 'receiving' | 'received' | 'completing';
  bytes: number;
}

function ownerOf(request: FastifyRequest): string {
  if (request.principal) return `token:${request.principal.tokenId}`;
  return `user:${request.session?.user ?? 'anonymous'}`;
}

/** The caller's name for logs, never the token. */
function userOf(request: FastifyRequest): string | undefined {
  return request.principal?.user ?? request.session?.user;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads a small body (the complete call's), bounded; refuses a larger one with 413. */
async function readSmallBody(request: FastifyRequest): Promise<string> {
  checkDeclaredLength(request.headers['content-length'], MAX_SMALL_BODY);
  const limit = byteLimit(MAX_SMALL_BODY, 'the request body');
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    (request.raw as IncomingMessage).on('error', reject).pipe(limit).on('error', reject).on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', resolve);
  });
  return Buffer.concat(chunks).toString('utf8');
}

/** `NAME:ACTION` from a path segment, or undefined when it does not end in `:ACTION`. */
function beforeAction(segment: string, action: string): string | undefined {
  const suffix = `:${action}`;
  return segment.endsWith(suffix) && segment.length > suffix.length ? segment.slice(0, -suffix.length) : undefined;
}

export const symUploadV2Plugin: FastifyPluginAsync<SymUploadV2Options> = async (app, options) => {
  const { store, limits } = options;
  const ttlMs = options.ttlMs ?? 30 * 60_000;
  const maxPendingPerToken = options.maxPendingPerToken ?? 20;
  const maxPending = options.maxPending ?? 1000;
  await mkdir(options.stagingDir, { recursive: true });
  await removeAbandonedFiles(options.stagingDir, ttlMs);

  const slots = new Map<string, Slot>();
  /** Keys of slots that expired, so that a late call hears "expired" rather than "unknown" (oldest forgotten first). */
  const expired = new Set<string>();

  async function drop(slot: Slot, why: 'expired' | 'done'): Promise<void> {
    slots.delete(slot.uploadKey);
    if (why === 'expired') {
      expired.add(slot.uploadKey);
      if (expired.size > REMEMBERED_EXPIRED) expired.delete(expired.values().next().value!);
    }
    await rm(slot.file, { force: true });
  }

  async function sweep(now = Date.now()): Promise<void> {
    for (const slot of [...slots.values()]) {
      // A slot busy receiving or storing finishes first; it is checked again when it does.
      if (slot.expiresAt <= now && (slot.state === 'empty' || slot.state === 'received')) await drop(slot, 'expired');
    }
  }
  const sweeper = setInterval(() => void sweep().catch((error: unknown) => app.log.error({ err: error }, 'sweeping sym_upload v2 slots failed')), Math.max(50, Math.min(ttlMs / 4, 60_000)));
  sweeper.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    await Promise.all([...slots.values()].map((slot) => rm(slot.file, { force: true })));
  });

  /** The caller's live slot, or a refusal saying why there is none. */
  async function slotFor(uploadKey: string, owner?: string): Promise<Slot> {
    const slot = slots.get(uploadKey);
    if (slot && (owner === undefined || slot.owner === owner)) {
      if (slot.expiresAt > Date.now() || slot.state === 'receiving' || slot.state === 'completing') return slot;
      await drop(slot, 'expired');
    }
    if (expired.has(uploadKey)) throw new Refused(410, `the upload ${quoteName(uploadKey.slice(0, 8))}... expired: it was not completed within ${Math.round(ttlMs / 1000)} s; start again`);
    // Another token's slot is as unknown to this caller as a made-up key.
    throw new Refused(404, 'unknown upload key');
  }

  function answerError(request: FastifyRequest, reply: FastifyReply, error: unknown, step: string): FastifyReply {
    if (error instanceof Refused || error instanceof UploadRefused) {
      request.log.info({ user: userOf(request), step, status: error.statusCode, reason: error.message }, 'sym_upload v2 refused');
      // A body refused midway is not worth reading to its end.
      return clientJson(reply.header('connection', 'close'), error.statusCode, { error: error.message });
    }
    request.log.error({ user: userOf(request), step, err: error }, 'sym_upload v2 failed');
    return clientJson(reply, 500, { error: `${step} failed; the server log says why` });
  }

  const access = () => withAccess({ permission: 'upload_symbols' }, { config: { allowQueryToken: true } });

  await app.register(async (v2: FastifyInstance) => {
    // Bodies are read by the handlers, under their own limits.
    v2.removeAllContentTypeParsers();
    v2.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    for (const base of BASES) {
      v2.get<{ Params: { debugFile: string; debugIdAction: string } }>(`${base.prefix}/v1/symbols/:debugFile/:debugIdAction`, access(), async (request, reply) => {
        try {
          const debugId = beforeAction(request.params.debugIdAction, 'checkStatus');
          if (debugId === undefined) throw new Refused(404, 'expected /v1/symbols/{debug_file}/{debug_id}:checkStatus');
          const key: SymbolKey = { debugFile: request.params.debugFile, debugId: debugId.replace(/-/g, '').toUpperCase() };
          if (symbolStorePath(key) === undefined) throw new Refused(400, `no symbol file can be stored as ${quoteName(key.debugFile)} ${quoteName(key.debugId)}`);
          const found = await store.has(key);
          return clientJson(reply, 200, { status: found ? 'FOUND' : 'MISSING', debug_file: key.debugFile, debug_id: key.debugId });
        } catch (error) {
          return answerError(request, reply, error, 'checking a symbol');
        }
      });

      // `uploads:create`: a literal colon is written `::` in a route.
      v2.post(`${base.prefix}/v1/uploads::create`, access(), async (request, reply) => {
        try {
          await readSmallBody(request);
          const owner = ownerOf(request);
          await sweep();
          const mine = [...slots.values()].filter((s) => s.owner === owner).length;
          if (mine >= maxPendingPerToken) throw new Refused(429, `this token has ${mine} uploads waiting to be completed (the most it may have); complete them or wait ${Math.round(ttlMs / 1000)} s for them to expire`);
          if (slots.size >= maxPending) throw new Refused(429, `${slots.size} uploads are waiting to be completed on this server (the most it keeps); try again later`);
          const uploadKey = randomBytes(24).toString('base64url');
          slots.set(uploadKey, { uploadKey, owner, expiresAt: Date.now() + ttlMs, file: path.join(options.stagingDir, `${SLOT_PREFIX}${uploadKey}.sym`), state: 'empty', bytes: 0 });
          request.log.info({ user: userOf(request), upload: uploadKey.slice(0, 8) }, 'sym_upload v2 upload created');
          return clientJson(reply, 200, { uploadUrl: `${request.protocol}://${request.host}${UPLOAD_PATH}/${uploadKey}`, uploadKey, expires_in_seconds: Math.round(ttlMs / 1000) });
        } catch (error) {
          return answerError(request, reply, error, 'creating an upload');
        }
      });

      v2.post<{ Params: { uploadKeyAction: string }; Querystring: Record<string, string | string[] | undefined> }>(`${base.prefix}/v1/uploads/:uploadKeyAction`, access(), async (request, reply) => {
        try {
          const uploadKey = beforeAction(request.params.uploadKeyAction, 'complete');
          if (uploadKey === undefined) throw new Refused(404, 'expected /v1/uploads/{upload_key}:complete');
          const reprocess = base.reprocess || reprocessValue(request.query.reprocess);
          checkType(request, COMPLETE_TYPES, 'the complete request\'s body (JSON)');
          const claim = parseCompleteBody(await readSmallBody(request));
          if (claim.type.toUpperCase() !== BREAKPAD_TYPE) throw new Refused(400, `only Breakpad symbol files (symbol_upload_type BREAKPAD) can be stored, not ${quoteName(claim.type)}`);
          const slot = await slotFor(uploadKey, ownerOf(request));
          if (slot.state === 'receiving' || slot.state === 'completing') throw new Refused(409, `the upload is still being ${slot.state === 'receiving' ? 'received' : 'completed'}`);
          if (slot.state === 'empty') throw new Refused(409, 'nothing was PUT to the upload URL yet');
          slot.state = 'completing';
          try {
            const validated = await validateSymbolFile(slot.file, { kind: 'declared', debugFile: claim.debugFile, debugId: claim.debugId }, quoteName(claim.debugFile));
            const duplicate = (await store.has(validated.key)) && (await sameBytes(store, validated.key, slot.file));
            if (!duplicate) {
              await store.putFile(validated.key, slot.file);
              options.onStored?.(validated.key);
            }
            const report = await options.reportMissed(request, [validated.key], reprocess);
            request.log.info(
              { user: userOf(request), debugFile: validated.key.debugFile, debugId: validated.key.debugId, bytes: slot.bytes, duplicate, missed: report.crashes_missing, queued: report.queued_for_reprocessing },
              'sym_upload v2 upload completed',
            );
            return clientJson(reply, 200, {
              result: duplicate ? 'DUPLICATE_DATA' : 'OK',
              debug_file: validated.key.debugFile,
              debug_id: validated.key.debugId,
              os: validated.os,
              cpu: validated.cpu,
              path: validated.storePath,
              size: slot.bytes,
              ...report,
            });
          } finally {
            // Stored, refused or failed: a slot is completed once (a refused file would be refused again).
            await drop(slot, 'done');
          }
        } catch (error) {
          return answerError(request, reply, error, 'completing an upload');
        }
      });
    }

    // The upload URL: the slot's key is the credential, as in a signed URL (the client sends no token here).
    v2.put<{ Params: { uploadKey: string } }>(`${UPLOAD_PATH}/:uploadKey`, withAccess('public'), async (request, reply) => {
      try {
        checkType(request, FILE_TYPES, 'the symbol file');
        const slot = await slotFor(request.params.uploadKey);
        if (slot.state === 'receiving' || slot.state === 'completing') throw new Refused(409, `the upload is already being ${slot.state === 'receiving' ? 'received' : 'completed'}`);
        checkDeclaredLength(request.headers['content-length'], limits.maxUploadBytes);
        slot.state = 'receiving';
        try {
          await rm(slot.file, { force: true });
          slot.bytes = await receiveToFile(request.raw, slot.file, limits.maxUploadBytes);
          slot.state = 'received';
        } catch (error) {
          slot.state = 'empty';
          await rm(slot.file, { force: true });
          if (error instanceof UploadRefused) throw error;
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw error;
          throw new Refused(400, `the upload broke off: ${(error as Error).message}`);
        }
        if (slot.expiresAt <= Date.now()) {
          await drop(slot, 'expired');
          throw new Refused(410, 'the upload expired while it was being received; start again');
        }
        request.log.info({ upload: slot.uploadKey.slice(0, 8), bytes: slot.bytes }, 'sym_upload v2 file received');
        return clientJson(reply, 200, { bytes: slot.bytes });
      } catch (error) {
        return answerError(request, reply, error, 'receiving an upload');
      }
    });
  });
};

/** `reprocess=1|true|on|yes` on the complete call; anything else but absent or 0 is refused. */
function reprocessValue(given: string | string[] | undefined): boolean {
  // Repeated, the first counts (as everywhere in the API).
  const value = Array.isArray(given) ? given[0] : given;
  if (value === undefined || value === '') return false;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(v)) return true;
  if (['0', 'false', 'off', 'no'].includes(v)) return false;
  throw new Refused(400, `reprocess must be 1 or 0, got ${quoteName(value.slice(0, 40))}`);
}

/** Whether the store holds exactly the staged bytes under `key` (sym_upload then says "no change necessary"). */
async function sameBytes(store: SymbolStore, key: SymbolKey, file: string): Promise<boolean> {
  const [stored, staged] = await Promise.all([store.fetch(key), stat(file)]);
  if (!stored || stored.byteLength !== staged.size) return false;
  return createHash('sha256').update(stored).digest('hex') === (await sha256File(file));
}

/**
 * Staged files of earlier processes (a crash or a kill left them) older than a slot lives:
 * no slot can complete them. Younger ones may belong to another node sharing the folder.
 */
async function removeAbandonedFiles(stagingDir: string, ttlMs: number): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(stagingDir).catch(() => [] as string[])) {
    if (!name.startsWith(SLOT_PREFIX)) continue;
    const file = path.join(stagingDir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && now - info.mtimeMs > ttlMs) await rm(file, { recursive: true, force: true });
  }
}
