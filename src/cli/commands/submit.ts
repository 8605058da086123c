/**
 * `mayday submit DUMP --url URL [--product P] [--version V] [--annotation KEY=VALUE ...] [--gzip]
 *  [--repeat N --concurrency C]`
 *
 * Sends a crash as a Breakpad client does (`minidump_upload`, libcurl's form encoding):
 * `multipart/form-data` with `prod` and `ver` fields, the other annotations as fields, and
 * the dump as the file part `upload_file_minidump` (`application/octet-stream`); with
 * `--gzip`, the body compressed with `Content-Encoding: gzip` as Crashpad sends it. With
 * `--repeat`, it becomes a load generator: the same body N times over C keep-alive
 * connections, a progress line on stderr, and a summary (requests/s, MB/s, latency
 * percentiles, failures) on stdout.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../common/errors.js';
import { versionInfo } from '../../common/version.js';

export interface SubmitBody {
  contentType: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The request body a Breakpad client sends for this dump and these annotations. */
export function breakpadBody(dump: Buffer | undefined, dumpFileName: string, annotations: ReadonlyArray<[string, string]>, gzip: boolean): SubmitBody {
  const boundary = `------------------------${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of annotations) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(name)}"\r\n\r\n${value}\r\n`, 'utf8'));
  }
  if (dump) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="${escapeQuoted(dumpFileName)}"\r\nContent-Type: application/octet-stream\r\n\r\n`, 'utf8'));
    chunks.push(dump, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  let body = Buffer.concat(chunks);
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}`, 'user-agent': `mayday-submit/${versionInfo().version}` };
  if (gzip) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(body.length);
  return { contentType: headers['content-type'], headers, body };
}

function escapeQuoted(value: string): string {
  return value.replace(/["\\\r\n]/g, '_');
}

export interface SubmitResult {
  status: number;
  text: string;
  latencyMs: number;
}

export function postOnce(url: URL, body: SubmitBody, agent?: Agent | HttpsAgent): Promise<SubmitResult> {
  const started = performance.now();
  const send = url.protocol === 'https:' ? httpsRequest : request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', headers: body.headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8'), latencyMs: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body.body);
  });
}

export interface LoadSummary {
  requests: number;
  accepted: number;
  failures: number;
  seconds: number;
  requestsPerSecond: number;
  megabytesPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** The first few distinct failure answers, for the operator. */
  failureSamples: string[];
}

/** Sends `body` (or each of `bodies` in turn) `repeat` times over `concurrency` keep-alive connections. */
export async function runLoad(url: URL, bodies: SubmitBody | readonly SubmitBody[], options: { repeat: number; concurrency: number; onProgress?: (done: number) => void }): Promise<LoadSummary> {
  const agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: options.concurrency }) : new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const list = Array.isArray(bodies) ? bodies : [bodies as SubmitBody];
  let bytesAccepted = 0;
  const latencies: number[] = [];
  const failureSamples = new Set<string>();
  let next = 0;
  let accepted = 0;
  let failures = 0;
  let done = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < options.repeat) {
      const body = list[next++ % list.length];
      try {
        const result = await postOnce(url, body, agent);
        latencies.push(result.latencyMs);
        if (result.status === 200 && result.text.startsWith('CrashID=')) {
          accepted++;
          bytesAccepted += body.body.length;
        }
        else {
          failures++;
          if (failureSamples.size < 5) failureSamples.add(`${result.status} ${result.text.split('\n')[0]}`);
        }
      } catch (error) {
        failures++;
        if (failureSamples.size < 5) failureSamples.add((error as Error).message);
      }
      options.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.repeat) }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => (latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]);
  return {
    requests: options.repeat,
    accepted,
    failures,
    seconds,
    requestsPerSecond: options.repeat / seconds,
    megabytesPerSecond: bytesAccepted / seconds / 1e6,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    failureSamples: [...failureSamples],
  };
}

export function formatSummary(s: LoadSummary): string {
  return [
    `requests: ${s.requests}   accepted: ${s.accepted}   failures: ${s.failures}   time: ${s.seconds.toFixed(2)} s`,
    `throughput: ${s.requestsPerSecond.toFixed(1)} requests/s, ${s.megabytesPerSecond.toFixed(1)} MB/s`,
    `latency: p50 ${s.p50.toFixed(1)} ms   p95 ${s.p95.toFixed(1)} ms   p99 ${s.p99.toFixed(1)} ms`,
    ...s.failureSamples.map((f) => `failure: ${f}`),
  ].join('\n') + '\n';
}

function progressBar(total: number): (done: number) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (done) => {
    const now = Date.now();
    if (done < total && now - last < (tty ? 100 : 2000)) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    process.stderr.write(tty ? `\r${line}${done === total ? '\n' : ''}` : `${line}\n`);
  };
}

export interface SubmitOptions {
  url: string;
  product?: string;
  version?: string;
  annotation: string[];
  gzip?: boolean;
  repeat?: string;
  concurrency?: string;
}

export async function runSubmit(dumpPath: string, options: SubmitOptions, out: (t: string) => void, err: (t: string) => void): Promise<number> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new UserError(`--url: not a URL: ${options.url}`);
  }
  if (!/\/submit\/?$/.test(url.pathname)) url = new URL(url.pathname.replace(/\/?$/, '/submit'), url);
  let dump: Buffer;
  try {
    dump = await readFile(dumpPath);
  } catch (error) {
    throw new UserError(`${dumpPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const annotations: [string, string][] = [];
  if (options.product !== undefined) annotations.push(['prod', options.product]);
  if (options.version !== undefined) annotations.push(['ver', options.version]);
  for (const pair of options.annotation) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`--annotation expects KEY=VALUE, got "${pair}"`);
    annotations.push([pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  if (annotations.length === 0) throw new UserError('a crash report needs at least one annotation: give --product/--version or --annotation KEY=VALUE');
  const body = breakpadBody(dump, basename(dumpPath), annotations, options.gzip ?? false);

  const repeat = positive(options.repeat ?? '1', '--repeat');
  const concurrency = positive(options.concurrency ?? '1', '--concurrency');
  if (repeat === 1) {
    const result = await postOnce(url, body);
    (result.status === 200 ? out : err)(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
    return result.status === 200 && result.text.startsWith('CrashID=') ? 0 : 1;
  }
  const summary = await runLoad(url, body, { repeat, concurrency, onProgress: progressBar(repeat) });
  out(formatSummary(summary));
  return summary.failures === 0 ? 0 : 1;
}

function positive(raw: string, flag: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UserError(`${flag} expects a positive integer, got "${raw}"`);
  return Number(raw);
}
