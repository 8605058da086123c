/**
 * `mayday reprocess`: puts crashes on the reprocessing queue, named by ids (`--crash-id`
 * or bare arguments, `bp-` allowed), a `--signature`, a Super Search `--query`, or
 * `--missing-symbols [DEBUG_FILE/DEBUG_ID]` (the crashes of the last `--days` days that
 * missed one module's symbols, or any module's). Against the embedded storage of a data
 * directory (`--data-dir`, `--config`), or a running node (`--url URL --token TOKEN`,
 * through `POST /api/Reprocessing/`).
 */
import { FsRawCrashStore } from '../../adapters/fs-raw-crash-store.js';
import { SqliteCrashIndex } from '../../adapters/sqlite-crash-index.js';
import { fieldCatalogFromConfig } from '../../schema/field-catalog.js';
import { SqliteMissingSymbolsLog } from '../../adapters/sqlite-missing-symbols.js';
import { SqliteQueue } from '../../adapters/sqlite-queue.js';
import { parseCrashId } from '../../common/crash-id.js';
import { UserError } from '../../common/errors.js';
import type { SymbolKey } from '../../ports/symbol-store.js';
import { RULESET_NAMES } from '../../schema/rulesets.js';
import { queryStringToParams, selectCrashIds, selectMissingSymbolsCrashIds } from '../../roles/web/crash-selection.js';
import { parseMissingSymbolsSelection } from '../../roles/web/reprocessing-api.js';
import { SuperSearchParamError } from '../../roles/web/super-search-params.js';
import { openNodeData } from '../data-dir.js';
import { progress } from '../progress.js';

const RULESETS: readonly string[] = RULESET_NAMES;
/** Most crashes a missing-symbols selection queues (as the node's API). */
const MAX_MISSING_SYMBOLS_CRASHES = 10_000;

/** Which crashes: exactly one of these. */
export type Selection =
  | { kind: 'ids'; ids: string[] }
  | { kind: 'signature'; signature: string }
  | { kind: 'query'; query: string }
  | { kind: 'missing-symbols'; module: SymbolKey | null; days: number };

export interface ReprocessOptions {
  crashId?: string[];
  signature?: string;
  query?: string;
  /** `true` for every module, or `DEBUG_FILE/DEBUG_ID`. */
  missingSymbols?: string | boolean;
  days: string;
  ruleset: string;
  dataDir?: string;
  config?: string;
  url?: string;
  token?: string;
}

/** The selection the options name; throws `UserError` for none, several, or a bad value. */
export function selectionOf(positional: readonly string[], options: ReprocessOptions): Selection {
  const ids = [...positional, ...(options.crashId ?? [])];
  const ways = [ids.length > 0, options.signature !== undefined, options.query !== undefined, options.missingSymbols !== undefined && options.missingSymbols !== false].filter(Boolean).length;
  if (ways !== 1) throw new UserError('mayday reprocess: name the crashes with exactly one of: crash ids (ID ... or --crash-id ID ...), --signature S, --query Q, or --missing-symbols [DEBUG_FILE/DEBUG_ID]');
  if (ids.length > 0) {
    return {
      kind: 'ids',
      ids: ids.map((raw) => {
        const id = parseCrashId(raw);
        if (!id) throw new UserError(`mayday reprocess: "${raw}" is not a crash id (expected e.g. bp-de1bb258-cbbf-4589-a673-34f800160918)`);
        return id;
      }),
    };
  }
  if (options.signature !== undefined) return { kind: 'signature', signature: options.signature };
  if (options.query !== undefined) return { kind: 'query', query: options.query };
  const days = Number(options.days);
  if (!Number.isInteger(days) || days < 1 || days > 365) throw new UserError(`mayday reprocess: --days must be a whole number from 1 to 365, got "${options.days}"`);
  if (options.missingSymbols === true) return { kind: 'missing-symbols', module: null, days };
  const module = parseMissingSymbolsSelection(String(options.missingSymbols));
  if (module === undefined) throw new UserError(`mayday reprocess: --missing-symbols takes DEBUG_FILE/DEBUG_ID (e.g. libfoo.so/0123456789ABCDEF0123456789ABCDEF0), or nothing for every module; got "${String(options.missingSymbols)}"`);
  return { kind: 'missing-symbols', module, days };
}

/** What a reprocessing request did. */
export interface ReprocessResult {
  queued: number;
  /** Named ids that are not stored (nothing was queued when there are any, remotely). */
  unknown: string[];
}

/** Selects and queues on the embedded storage of a data directory. */
async function reprocessLocally(selection: Selection, options: ReprocessOptions): Promise<ReprocessResult> {
  const { config, paths } = openNodeData('reprocess', options);
  if (config.database.backend !== 'sqlite' || config.queue.backend !== 'sqlite') {
    throw new UserError('mayday reprocess: this configuration uses a shared database or queue; ask a running node instead: --url URL --token TOKEN (a token with the reprocess permission)');
  }
  let ids: string[];
  if (selection.kind === 'ids') ids = selection.ids;
  else if (selection.kind === 'missing-symbols') {
    const log = SqliteMissingSymbolsLog.open(paths.database);
    try {
      ids = await selectMissingSymbolsCrashIds(log, { module: selection.module ?? undefined, days: selection.days, limit: MAX_MISSING_SYMBOLS_CRASHES });
    } finally {
      await log.close();
    }
  } else {
    // An operator on the node's own storage may select on protected fields too.
    const params = selection.kind === 'query' ? queryStringToParams(selection.query) : {};
    if (selection.kind === 'signature') params.signature = selection.signature;
    // The node's declared annotation fields are searchable here too.
    const fields = fieldCatalogFromConfig(config.annotations.fields);
    const index = SqliteCrashIndex.open(paths.database, { fields });
    try {
      ids = await selectCrashIds(index, params, { canViewProtected: true, fields });
    } catch (error) {
      if (error instanceof SuperSearchParamError || error instanceof RangeError) throw new UserError(`mayday reprocess: ${error.message}`);
      throw error;
    } finally {
      await index.close();
    }
  }
  if (ids.length === 0) return { queued: 0, unknown: [] };
  const raw = await FsRawCrashStore.open(paths.raw, { fsync: config.storage.fsync });
  const queue = SqliteQueue.open(paths.queue, { visibilityTimeoutMs: config.queue.visibility_timeout });
  const bar = progress('queueing', ids.length);
  const unknown: string[] = [];
  try {
    for (const id of ids) {
      if (await raw.get(id)) await queue.enqueue(id, 'reprocessing', { ruleset: options.ruleset });
      else unknown.push(id);
      bar.increment();
    }
  } finally {
    bar.stop();
    await queue.close();
  }
  return { queued: ids.length - unknown.length, unknown };
}

/** The request body of `POST /api/Reprocessing/` for a selection. */
export function reprocessingRequest(selection: Selection, ruleset: string): Record<string, unknown> {
  switch (selection.kind) {
    case 'ids':
      return { crash_ids: selection.ids, ruleset };
    case 'signature':
      return { signature: selection.signature, ruleset };
    case 'query':
      return { query: selection.query, ruleset };
    case 'missing-symbols':
      return { missing_symbols: selection.module ? `${selection.module.debugFile}/${selection.module.debugId}` : 'all', days: selection.days, ruleset };
  }
}

/** Asks a running node; every failure becomes a sentence saying what to do. */
export async function reprocessRemotely(selection: Selection, options: { url: string; token: string; ruleset: string }): Promise<ReprocessResult> {
  let url: URL;
  try {
    url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UserError(`mayday reprocess: --url wants the node's address, e.g. https://crashes.example.com; got "${options.url}"`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/Reprocessing/`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'auth-token': options.token, 'user-agent': 'mayday-reprocess' },
      body: JSON.stringify(reprocessingRequest(selection, options.ruleset)),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(`mayday reprocess: cannot reach ${url.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message} (is the node running, and is --url its address?)`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = typeof body === 'object' && body !== null && 'error' in body ? String((body as { error: unknown }).error) : text.slice(0, 300);
  if (response.status === 401) throw new UserError(`mayday reprocess: ${url.origin} refused the token (401: ${error}). Is it the whole token, not revoked or expired? Create one with \`mayday tokens create --user NAME --permissions reprocess\`.`);
  if (response.status === 403) throw new UserError(`mayday reprocess: the token may not reprocess on ${url.origin} (403: ${error}). Use a token with the reprocess permission.`);
  if (response.status === 404 && selection.kind === 'ids') {
    const missing = (body as { crash_ids?: string[] } | undefined)?.crash_ids ?? [];
    return { queued: 0, unknown: missing.length > 0 ? missing : selection.ids };
  }
  if (response.status === 404) throw new UserError(`mayday reprocess: ${url.href} does not exist (404): is --url a Mayday node with the web role?`);
  if (!response.ok) throw new UserError(`mayday reprocess: ${url.origin} answered ${response.status}: ${error}`);
  if (body === true) return { queued: selection.kind === 'ids' ? selection.ids.length : 0, unknown: [] };
  const queued = (body as { queued?: unknown } | undefined)?.queued;
  if (typeof queued !== 'number') throw new UserError(`mayday reprocess: unexpected answer from ${url.href}: ${text.slice(0, 200)}`);
  return { queued, unknown: [] };
}

/** `mayday reprocess`. */
export async function reprocessCommand(positional: string[], options: ReprocessOptions): Promise<void> {
  if (!RULESETS.includes(options.ruleset)) throw new UserError(`mayday reprocess: unknown ruleset "${options.ruleset}" (known: ${RULESETS.join(', ')})`);
  const selection = selectionOf(positional, options);
  let result: ReprocessResult;
  if (options.url !== undefined) {
    if (options.dataDir !== undefined || options.config !== undefined) throw new UserError('mayday reprocess: give either --url (a running node) or --data-dir/--config (local storage), not both');
    const token = options.token ?? process.env.MAYDAY_TOKEN;
    if (!token) throw new UserError('mayday reprocess: --url needs an API token with the reprocess permission: --token TOKEN or MAYDAY_TOKEN (create one with `mayday tokens create --user NAME --permissions reprocess`)');
    result = await reprocessRemotely(selection, { url: options.url, token, ruleset: options.ruleset });
  } else {
    if (options.token !== undefined) throw new UserError('mayday reprocess: --token goes with --url (a running node); local storage needs none');
    result = await reprocessLocally(selection, options);
  }
  if (result.unknown.length > 0) {
    process.stderr.write(`not found (no raw crash): ${result.unknown.join(', ')}\n`);
    process.exitCode = 1;
  }
  if (result.queued === 0 && result.unknown.length === 0) process.stdout.write('no crash matches; nothing was queued\n');
  else if (result.queued > 0 || result.unknown.length === 0) process.stdout.write(`queued ${result.queued} crash${result.queued === 1 ? '' : 'es'} for reprocessing with the ${options.ruleset} ruleset\n`);
}
