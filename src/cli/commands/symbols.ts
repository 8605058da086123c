/**
 * `mayday symbols upload PATH... --url URL --token TOKEN` and
 * `mayday symbols reprocess --url URL --token TOKEN --debug-file F --debug-id ID [--days N]`.
 *
 * Upload sends each `.sym` as Breakpad's `sym_upload` does (`sym-upload-v1` multipart,
 * the debug file and id read from its MODULE line) and each `.zip` as it is; a
 * directory is searched for both. Bodies are streamed from disk, with a progress bar on
 * a terminal (a line per file otherwise). Network errors, 5xx and 429 are retried with
 * exponential backoff and jitter; other refusals (400 corrupt file, 401/403 token, 413
 * too large) are final, since sending the same bytes again cannot change the answer.
 * The summary lists every failure; the exit code is 1 if any file failed.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { UserError } from '../../common/errors.js';

export interface UploadItem {
  readonly file: string;
  readonly kind: 'sym' | 'zip';
  readonly size: number;
}

export interface UploadClientOptions {
  /** Base URL of the Mayday node, or the full upload URL. */
  readonly url: string;
  readonly token: string;
  readonly retries: number;
  /** First backoff delay in ms; doubled on each retry. */
  readonly backoffMs: number;
  /** Per-request limit in ms (0 = none). */
  readonly timeoutMs: number;
  /** Ask the server to queue the crashes that missed the uploaded symbols (`reprocess=1`). */
  readonly reprocess?: boolean;
  /** Where progress and the summary go. */
  readonly progress: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface UploadSummary {
  uploaded: number;
  failed: { file: string; error: string }[];
  bytes: number;
  seconds: number;
  /** Crashes of the server's recent days that missed the uploaded modules' symbols (each once where the server listed them). */
  crashesMissing: number;
  /** Of them, how many the server queued for reprocessing. */
  queued: number;
  /** The server's reason for not queueing them (e.g. the token lacks `reprocess`). */
  reprocessRefused?: string;
  /** The window the server counted in, in days. */
  days?: number;
}

/** What the server says after each upload (older servers say none of it). */
interface UploadAnswer {
  crashes_missing?: number;
  crashes_missing_days?: number;
  crash_ids?: string[];
  queued_for_reprocessing?: number;
  reprocess_refused?: string;
}

/**
 * Adds up the answers of a file-by-file upload: a crash that missed two modules is
 * counted once when the answers list their crashes in full, and at most once per
 * answer otherwise.
 */
export function tallyAnswers(answers: readonly UploadAnswer[]): Pick<UploadSummary, 'crashesMissing' | 'queued' | 'reprocessRefused' | 'days'> {
  const missing = new Set<string>();
  const queued = new Set<string>();
  let unlistedMissing = 0;
  let unlistedQueued = 0;
  let reprocessRefused: string | undefined;
  let days: number | undefined;
  for (const answer of answers) {
    const count = answer.crashes_missing ?? 0;
    const listed = answer.crash_ids ?? [];
    const queuedHere = Math.min(answer.queued_for_reprocessing ?? 0, count);
    if (listed.length >= count) {
      for (const id of listed) missing.add(id);
      // The server queues all of them or none.
      if (queuedHere > 0) for (const id of listed) queued.add(id);
    } else {
      unlistedMissing += count;
      unlistedQueued += queuedHere;
    }
    reprocessRefused ??= answer.reprocess_refused;
    days ??= answer.crashes_missing_days;
  }
  return { crashesMissing: missing.size + unlistedMissing, queued: queued.size + unlistedQueued, reprocessRefused, days };
}

/** `.sym` and `.zip` files among `paths`, directories searched recursively, in a stable order. */
export async function collectUploadItems(paths: readonly string[]): Promise<UploadItem[]> {
  const items: UploadItem[] = [];
  const visit = async (file: string, explicit: boolean): Promise<void> => {
    let info;
    try {
      info = await stat(file);
    } catch {
      throw new UserError(`mayday symbols upload: ${file}: no such file or directory`);
    }
    if (info.isDirectory()) {
      const names = (await readdir(file)).sort();
      for (const name of names) await visit(path.join(file, name), false);
      return;
    }
    const lower = file.toLowerCase();
    if (lower.endsWith('.sym')) items.push({ file, kind: 'sym', size: info.size });
    else if (lower.endsWith('.zip')) items.push({ file, kind: 'zip', size: info.size });
    else if (explicit) throw new UserError(`mayday symbols upload: ${file}: not a .sym or .zip file`);
  };
  for (const p of paths) await visit(p, true);
  return items;
}

function uploadUrl(base: string, reprocess: boolean): URL {
  const url = new URL(base);
  if (!url.pathname.replace(/\/+$/, '').endsWith('/symbols/upload')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/symbols/upload`;
  url.searchParams.set('reprocess', reprocess ? '1' : '0');
  return url;
}

/** The MODULE line's fields, which sym_upload sends as form fields. */
async function moduleLine(file: string): Promise<{ os: string; cpu: string; id: string; name: string }> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const line = buffer.subarray(0, bytesRead).toString('utf8').split(/\r?\n/)[0];
    const match = /^MODULE (\S+) (\S+) ([0-9A-Fa-f-]+) (.+)$/.exec(line);
    if (!match) throw new Error('no MODULE line at the start of the file (is it a Breakpad .sym?)');
    return { os: match[1], cpu: match[2], id: match[3].replace(/-/g, ''), name: match[4] };
  } finally {
    await handle.close();
  }
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** One POST streaming `file` (wrapped in a multipart form when `fields` is given); counts bytes sent. */
async function postFile(url: URL, token: string, file: string, fields: Record<string, string> | undefined, timeoutMs: number, onBytes: (n: number) => void): Promise<string> {
  const size = (await stat(file)).size;
  const boundary = `----mayday-${Math.random().toString(16).slice(2)}`;
  const head = fields
    ? Buffer.from(
        Object.entries(fields)
          .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
          .join('') + `--${boundary}\r\nContent-Disposition: form-data; name="symbol_file"; filename="${path.basename(file).replace(/"/g, '')}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      )
    : Buffer.alloc(0);
  const tail = fields ? Buffer.from(`\r\n--${boundary}--\r\n`) : Buffer.alloc(0);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<string>((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': fields ? `multipart/form-data; boundary=${boundary}` : 'application/zip',
          'content-length': head.length + size + tail.length,
          'auth-token': token,
          'user-agent': 'mayday-symbols-upload',
        },
        timeout: timeoutMs || undefined,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk.length + body.length > 64 * 1024 ? '' : chunk));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status === 200 || status === 201) return resolve(body);
          // The server may have answered before reading the whole body: stop sending it.
          request.destroy();
          let message = body.trim();
          try {
            message = (JSON.parse(body) as { error?: string }).error ?? message;
          } catch {
            // not JSON: keep the text
          }
          reject(new HttpFailure(status, `HTTP ${status}: ${message.slice(0, 500)}`));
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        onBytes(chunk.length);
        callback(null, chunk);
      },
    });
    request.write(head);
    pipeline(createReadStream(file), counter, async function* (source) {
      for await (const chunk of source) yield chunk;
      yield tail;
    }, request).catch(reject);
  });
}

/** A one-line progress bar redrawn in place on a terminal. */
class Progress {
  private sent = 0;
  private done = 0;
  private lastDraw = 0;
  constructor(
    private readonly out: UploadClientOptions['progress'],
    private readonly totalBytes: number,
    private readonly totalFiles: number,
  ) {}
  add(bytes: number): void {
    this.sent += bytes;
    this.draw(false);
  }
  /** A failed attempt's bytes do not count. */
  rewind(bytes: number): void {
    this.sent -= bytes;
  }
  fileDone(file: string, outcome: string): void {
    this.done++;
    if (!this.out.isTTY) this.out.write(`[${this.done}/${this.totalFiles}] ${file}: ${outcome}\n`);
    this.draw(true);
  }
  note(text: string): void {
    if (this.out.isTTY) this.out.write('\r\x1b[K');
    this.out.write(`${text}\n`);
    this.draw(true);
  }
  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
  private draw(force: boolean): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const fraction = this.totalBytes === 0 ? 1 : Math.min(1, this.sent / this.totalBytes);
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 50));
    const filled = Math.round(fraction * width);
    this.out.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${mb(this.sent)}/${mb(this.totalBytes)} MB  ${this.done}/${this.totalFiles} files`);
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function uploadSymbolFiles(items: readonly UploadItem[], options: UploadClientOptions): Promise<UploadSummary> {
  const url = uploadUrl(options.url, options.reprocess ?? false);
  const started = performance.now();
  const progress = new Progress(options.progress, items.reduce((sum, i) => sum + i.size, 0), items.length);
  const summary: UploadSummary = { uploaded: 0, failed: [], bytes: 0, seconds: 0, crashesMissing: 0, queued: 0 };
  const answers: UploadAnswer[] = [];
  for (const item of items) {
    let fields: Record<string, string> | undefined;
    try {
      if (item.kind === 'sym') {
        const m = await moduleLine(item.file);
        fields = { code_file: m.name, debug_file: m.name, debug_identifier: m.id, os: m.os, cpu: m.cpu };
      }
    } catch (error) {
      summary.failed.push({ file: item.file, error: (error as Error).message });
      progress.fileDone(item.file, `failed: ${(error as Error).message}`);
      continue;
    }
    for (let attempt = 0; ; attempt++) {
      let sentThisAttempt = 0;
      try {
        const answer = await postFile(url, options.token, item.file, fields, options.timeoutMs, (n) => {
          sentThisAttempt += n;
          progress.add(n);
        });
        try {
          answers.push(JSON.parse(answer) as UploadAnswer);
        } catch {
          // An older server, or one behind a proxy that rewrote the answer: nothing to count.
        }
        summary.uploaded++;
        summary.bytes += item.size;
        progress.fileDone(item.file, 'uploaded');
        break;
      } catch (error) {
        progress.rewind(sentThisAttempt);
        const retryable = !(error instanceof HttpFailure) || error.retryable;
        const message = (error as Error).message;
        if (!retryable || attempt >= options.retries) {
          summary.failed.push({ file: item.file, error: message });
          progress.fileDone(item.file, `failed: ${message}`);
          break;
        }
        const delay = options.backoffMs * 2 ** attempt * (0.5 + Math.random() / 2);
        progress.note(`${item.file}: ${message}; retrying in ${(delay / 1000).toFixed(1)} s (${attempt + 1}/${options.retries})`);
        await sleep(delay);
      }
    }
  }
  progress.finish();
  summary.seconds = (performance.now() - started) / 1000;
  return { ...summary, ...tallyAnswers(answers) };
}

export function formatSummary(summary: UploadSummary): string {
  const rate = summary.seconds > 0 ? ` (${mb(summary.bytes / summary.seconds)} MB/s)` : '';
  const lines = [`uploaded ${summary.uploaded} file${summary.uploaded === 1 ? '' : 's'}, ${mb(summary.bytes)} MB in ${summary.seconds.toFixed(1)} s${rate}; ${summary.failed.length} failed`];
  if (summary.crashesMissing > 0) {
    const crashes = `${summary.crashesMissing} crash${summary.crashesMissing === 1 ? '' : 'es'}${summary.days ? ` of the last ${summary.days} days` : ''} missed these symbols`;
    if (summary.queued > 0) lines.push(`${crashes}; queued ${summary.queued === summary.crashesMissing ? '' : `${summary.queued} `}for reprocessing`);
    else if (summary.reprocessRefused) lines.push(`${crashes}; not queued: ${summary.reprocessRefused} (or run \`mayday reprocess --missing-symbols\` with such a token)`);
    else lines.push(`${crashes}; not queued (--no-reprocess)`);
  }
  for (const f of summary.failed) lines.push(`  failed: ${f.file}: ${f.error}`);
  return lines.join('\n') + '\n';
}

/** POSTs to the reprocessing API; resolves with its JSON answer. */
export async function requestReprocess(options: { url: string; token: string; debugFile: string; debugId: string; days: number }): Promise<{ queued: number; crash_ids: string[] }> {
  const url = new URL(options.url);
  url.pathname = `${url.pathname.replace(/\/+$/, '').replace(/\/symbols\/upload$/, '')}/api/ReprocessMissingSymbols/`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'auth-token': options.token },
    body: JSON.stringify({ debug_file: options.debugFile, debug_id: options.debugId, days: options.days }),
  });
  const body = (await response.json().catch(() => ({}))) as { error?: string; queued?: number; crash_ids?: string[] };
  if (!response.ok) throw new UserError(`mayday symbols reprocess: HTTP ${response.status}: ${body.error ?? response.statusText}`);
  return { queued: body.queued ?? 0, crash_ids: body.crash_ids ?? [] };
}

function tokenFrom(option: string | undefined): string {
  const token = option ?? process.env.MAYDAY_TOKEN;
  if (!token) throw new UserError('an API token is needed: --token TOKEN or MAYDAY_TOKEN in the environment (create one with `mayday tokens create --user NAME --permissions ...`)');
  return token;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${name} wants a whole number, got "${value}"`);
  return n;
}

export interface UploadCommandOptions {
  url: string;
  token?: string;
  retries: string;
  timeout: string;
  reprocess: boolean;
}

/** `mayday symbols upload`. */
export async function uploadCommand(paths: string[], options: UploadCommandOptions): Promise<void> {
  const token = tokenFrom(options.token);
  const items = await collectUploadItems(paths);
  if (items.length === 0) throw new UserError('mayday symbols upload: no .sym or .zip file found');
  const summary = await uploadSymbolFiles(items, {
    url: options.url,
    token,
    retries: positiveInt(options.retries, '--retries'),
    backoffMs: 500,
    timeoutMs: positiveInt(options.timeout, '--timeout') * 1000,
    reprocess: options.reprocess,
    progress: process.stderr,
  });
  process.stderr.write(formatSummary(summary));
  if (summary.failed.length > 0) process.exitCode = 1;
}

export interface ReprocessCommandOptions {
  url: string;
  debugFile: string;
  debugId: string;
  days: string;
  token?: string;
}

/** `mayday symbols reprocess`. */
export async function reprocessCommand(options: ReprocessCommandOptions): Promise<void> {
  const result = await requestReprocess({ url: options.url, token: tokenFrom(options.token), debugFile: options.debugFile, debugId: options.debugId, days: positiveInt(options.days, '--days') });
  process.stdout.write(`${result.crash_ids.join('\n')}${result.crash_ids.length > 0 ? '\n' : ''}`);
  process.stderr.write(`queued ${result.queued} crash${result.queued === 1 ? '' : 'es'} for reprocessing\n`);
}
