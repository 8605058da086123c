/**
 * `npm run soak -- --minutes 30`: a long run of the all-in-one node under steady mixed load,
 * to catch what only time shows (memory that grows, crashes that go missing, a node that
 * stalls).
 *
 * It starts the real node (`mayday start`, as built in dist/) on a fresh data directory,
 * uploads the corpus symbols with a token made by `mayday tokens create`, and then, on
 * loopback only, bounded in rate and in concurrency, sends for `--minutes`:
 *
 * - the ordinary traffic of a crash server, from 127.0.0.1: crash submissions (corpus
 *   dumps, as `mayday submit` sends them), Super Searches, report, signature, top-crasher
 *   and home pages, crash API reads, symbol uploads, and malformed requests;
 * - one hostile request at a time, from 127.0.0.2, taken in turn from the list of issue 10
 *   (quadratic form bodies, backtracking regular expressions, huge aggregation lists,
 *   absurd date ranges, gzip bombs of empty parts, trickling clients, deeply nested
 *   `extra` JSON, repeated parameters, `?tok%65n=`, open-redirect `next=` values, ...).
 *
 * Meanwhile it samples the node's RSS (VmRSS) every minute (more often in short runs) and
 * probes `/__lbheartbeat__` every second. Then it waits for the queue to drain and checks
 * that every crash id the collector returned was processed. The summary (RSS after
 * warm-up and at the end, latencies, counts per request kind) is printed and written as
 * JSON to `--out`. It passes when the RSS at the end is within 10% of the RSS after
 * warm-up (the first 3 minutes, or the first 10% of a shorter run) and the crash ids
 * returned are the crashes processed. Both RSS figures are medians of readings every 5 s
 * over a minute (the minute after the warm-up, the last minute of load): one reading
 * lands anywhere in a garbage collection cycle.
 *
 * Every request has a timeout and every loop a concurrency bound, so the soak ends on time
 * even when the node stalls (a hostile request it does not yet withstand).
 *
 * Options: --minutes N (fractions allowed; default 30), --out FILE (default
 * soak-results.json in the run's temp directory), --rate N (ordinary requests a second,
 * default 5), --hostile-every S (seconds between hostile requests, default 10; 0 turns
 * them off), --seed N, --keep-data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { breakpadBody } from '../src/cli/commands/submit.js';
import { seededRandom } from '../src/common/seeded-random.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAYDAY_BIN = join(ROOT, 'bin/mayday.js');
const CORPUS = join(ROOT, 'fixtures/corpus');

const ORDINARY_FROM = '127.0.0.1';
const HOSTILE_FROM = '127.0.0.2';
/** Password guesses come from a third address: the login throttle it trips must not refuse the others. */
const GUESSER_FROM = '127.0.0.3';
const ORDINARY_CONCURRENCY = 8;
const ORDINARY_TIMEOUT_MS = 30_000;
const HOSTILE_TIMEOUT_MS = 20_000;
/** Longer than the collector's default grace before its minimum rate applies (collector.min_rate_grace, 30 s). */
const TRICKLE_FOR_MS = 45_000;
const PROBE_EVERY_MS = 1000;
const PROBE_TIMEOUT_MS = 5000;
const PASSWORD = 'soak password, long enough';
const A_RUN = 'a'.repeat(30);

// ---------------------------------------------------------------------------------------
// Options

interface Options {
  minutes: number;
  out?: string;
  rate: number;
  hostileEverySeconds: number;
  seed: number;
  keepData: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '30' },
      out: { type: 'string' },
      rate: { type: 'string', default: '5' },
      'hostile-every': { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      'keep-data': { type: 'boolean', default: false },
    },
  });
  const number = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min}, not "${text}"`);
    return n;
  };
  return {
    minutes: number('minutes', values.minutes!, 0.05),
    out: values.out,
    rate: number('rate', values.rate!, 0.1),
    hostileEverySeconds: number('hostile-every', values['hostile-every']!, 0),
    seed: number('seed', values.seed!, 0),
    keepData: values['keep-data']!,
  };
}

// ---------------------------------------------------------------------------------------
// HTTP: node:http with per-source-address keep-alive agents and hard timeouts.

interface Answer {
  status?: number;
  headers: IncomingHttpHeaders;
  /** The body, up to `keep` bytes (the rest is read and dropped). */
  body: string;
  bytes: number;
  ms: number;
  error?: string;
  timedOut: boolean;
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  agent?: Agent | false;
  from?: string;
  timeoutMs: number;
  keep?: number;
}

function http(base: string, path: string, options: RequestOptions): Promise<Answer> {
  const started = performance.now();
  const keep = options.keep ?? 64 * 1024;
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer: Omit<Answer, 'ms'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...answer, ms: performance.now() - started });
    };
    // As curl does: the length announced, the body sent as fast as the server takes it.
    const headers = options.body === undefined ? options.headers : { 'content-length': String(Buffer.byteLength(options.body)), ...options.headers };
    const req = request(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers, agent: options.agent ?? false, ...(options.agent ? {} : { localAddress: options.from }) },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (kept < keep) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        const answered = (): void => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), bytes, timedOut: false });
        res.on('end', answered);
        // A server refusing a large body answers early and closes: the answer still counts.
        res.on('error', answered);
        res.on('close', answered);
      },
    );
    const timer = setTimeout(() => {
      finish({ headers: {}, body: '', bytes: 0, error: `no answer within ${options.timeoutMs} ms`, timedOut: true });
      req.destroy();
    }, options.timeoutMs);
    // Writing a large body to a server that already answered fails (EPIPE, ECONNRESET) just
    // before its answer is read: give the answer a moment to arrive.
    req.on('error', (error: NodeJS.ErrnoException) => setTimeout(() => finish({ headers: {}, body: '', bytes: 0, error: error.code ?? error.message, timedOut: false }), 200));
    void writeBody(req, options.body, () => done);
  });
}

/**
 * Writes a body in chunks, minding back-pressure, and stops once `stop()` says so (an answer
 * came or the request ended): a server that refuses a large body answers before reading it
 * all, and an answer is only readable if the client stops writing.
 */
async function writeBody(req: ClientRequest, body: Buffer | string | undefined, stop: () => boolean): Promise<void> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  let answered = false;
  req.once('response', () => (answered = true));
  const CHUNK = 64 * 1024;
  for (let offset = 0; bytes && offset < bytes.length; offset += CHUNK) {
    if (answered || stop() || req.destroyed) return;
    if (!req.write(bytes.subarray(offset, offset + CHUNK))) {
      await new Promise<void>((resolve) => {
        const go = (): void => {
          req.off('drain', go).off('response', go).off('close', go);
          resolve();
        };
        req.on('drain', go).on('response', go).on('close', go);
      });
    }
  }
  if (!answered && !stop() && !req.destroyed) req.end();
}

// ---------------------------------------------------------------------------------------
// Statistics

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (n: number | null): number | null => (n === null ? null : Math.round(n * 10) / 10);

function latencySummary(values: readonly number[]): { count: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null } {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50_ms: round(percentile(sorted, 50)), p99_ms: round(percentile(sorted, 99)), max_ms: round(sorted.at(-1) ?? null) };
}

/** Outcomes of one kind of request: statuses, timeouts, errors, latencies. */
class KindStats {
  readonly statuses = new Map<string, number>();
  readonly latencies: number[] = [];
  timeouts = 0;

  record(answer: Answer): void {
    const key = answer.status !== undefined ? String(answer.status) : answer.timedOut ? 'timeout' : `error ${answer.error ?? ''}`.trim();
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
    if (answer.timedOut) this.timeouts++;
    this.latencies.push(answer.ms);
  }

  toJSON(): object {
    return { ...latencySummary(this.latencies), statuses: Object.fromEntries([...this.statuses].sort()), timeouts: this.timeouts };
  }
}

class Stats {
  private readonly kinds = new Map<string, KindStats>();

  record(kind: string, answer: Answer): Answer {
    let stats = this.kinds.get(kind);
    if (!stats) this.kinds.set(kind, (stats = new KindStats()));
    stats.record(answer);
    return answer;
  }

  get(kind: string): KindStats | undefined {
    return this.kinds.get(kind);
  }

  toJSON(): object {
    return Object.fromEntries([...this.kinds].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.toJSON()]));
  }
}

// ---------------------------------------------------------------------------------------
// The node

interface Node {
  child: ChildProcess;
  url: string;
  pid: number;
  exited: Promise<number | string>;
  logPath: string;
}

function runMayday(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAYDAY_BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function startNode(dataDir: string, configPath: string, logPath: string): Promise<Node> {
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [MAYDAY_BIN, 'start', '--data-dir', dataDir, '--port', '0', '--config', configPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    let banner = '';
    let started = false;
    const timer = setTimeout(() => reject(new Error(`mayday did not start within 60 s:\n${banner}`)), 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (started) return;
      banner += chunk.toString();
      const match = /is running at (http:\/\/[^\s/]+)\//.exec(banner);
      if (match) {
        started = true;
        clearTimeout(timer);
        resolve({ child, url: match[1], pid: child.pid!, exited, logPath });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`mayday exited with ${code} before starting:\n${banner}`));
    });
  });
}

async function stopNode(node: Node): Promise<void> {
  node.child.kill('SIGINT');
  const stopped = await Promise.race([node.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
  if (!stopped) {
    node.child.kill('SIGKILL');
    await node.exited;
  }
}

/** Resident memory of a process, from /proc (Linux). */
function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Warns when dist/ is older than the sources: the soak runs the built node. */
function checkBuild(): void {
  const dist = join(ROOT, 'dist/cli/main.js');
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first (the soak runs the built `mayday`).');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((t, e) => Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  if (newest(join(ROOT, 'src')) > statSync(dist).mtimeMs) process.stderr.write('soak: warning: src/ is newer than dist/; run `npm run build` to soak the current code.\n');
}

// ---------------------------------------------------------------------------------------
// The load

interface Corpus {
  dumps: Buffer[];
  symbols: { name: string; bytes: Buffer }[];
}

function loadCorpus(): Corpus {
  const dumpsDir = join(CORPUS, 'dumps');
  const dumps = readdirSync(dumpsDir)
    .filter((f) => f.endsWith('.dmp'))
    .sort()
    .map((f) => readFileSync(join(dumpsDir, f)));
  const symbols: Corpus['symbols'] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      // The small ones: an upload replaces the module in the node's symbol cache, which is the point; megabytes each time are not.
      else if (entry.name.endsWith('.sym') && statSync(path).size < 300_000) symbols.push({ name: entry.name, bytes: readFileSync(path) });
    }
  };
  walk(join(CORPUS, 'symbols'));
  return { dumps, symbols };
}

/** A multipart body with one file part. */
function multipartFile(field: string, filename: string, bytes: Buffer): { headers: Record<string, string>; body: Buffer } {
  const boundary = `soak${Math.random().toString(36).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) }, body };
}

interface Context {
  url: string;
  token: string;
  rand: () => number;
  corpus: Corpus;
  stats: Stats;
  ordinary: Agent;
  /** Crash ids the collector returned for ordinary submissions. */
  accepted: string[];
  /** Signatures seen in searches, for signature pages. */
  signatures: Set<string>;
  submitLatencies: number[];
  /** What the hostile requests showed beyond their statuses (a redirect off-site, ...). */
  findings: Map<string, number>;
}

const pick = <T>(ctx: Context, list: readonly T[]): T => list[Math.floor(ctx.rand() * list.length)];
const ordinaryGet = (ctx: Context, kind: string, path: string, headers?: Record<string, string>): Promise<Answer> =>
  http(ctx.url, path, { agent: ctx.ordinary, timeoutMs: ORDINARY_TIMEOUT_MS, headers }).then((a) => ctx.stats.record(kind, a));

const SEARCHES = [
  'product=Soak&_facets=signature',
  'product=Soak&signature=~crash&_columns=uuid&_columns=signature&_sort=-date',
  'product=Soak&_aggs.signature=version',
  'product=Soak&_histogram.date=product',
  'product=Soak&_facets=os_name&_facets=version&_results_number=50',
  'signature=%5Ecrash&_facets_size=20',
];

const MALFORMED: { kind: string; send(ctx: Context): Promise<Answer> }[] = [
  { kind: 'malformed: submit without a dump', send: (ctx) => submitTo(ctx, [['ProductName', 'Malformed'], ['Version', '1.0']], undefined, false, 'malformed: submit without a dump') },
  {
    kind: 'malformed: submit with a truncated body',
    send: (ctx) => {
      const { headers, body } = breakpadBody(pick(ctx, ctx.corpus.dumps), 'crash.dmp', [['ProductName', 'Malformed']], false);
      const cut = body.subarray(0, body.length >> 1);
      return http(ctx.url, '/submit', { method: 'POST', headers: { ...headers, 'content-length': String(cut.length) }, body: cut, agent: ctx.ordinary, timeoutMs: ORDINARY_TIMEOUT_MS }).then((a) =>
        ctx.stats.record('malformed: submit with a truncated body', a),
      );
    },
  },
  { kind: 'malformed: submit not multipart', send: (ctx) => http(ctx.url, '/submit', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello', agent: ctx.ordinary, timeoutMs: ORDINARY_TIMEOUT_MS }).then((a) => ctx.stats.record('malformed: submit not multipart', a)) },
  { kind: 'malformed: bad crash id', send: (ctx) => ordinaryGet(ctx, 'malformed: bad crash id', '/api/ProcessedCrash/?crash_id=not-a-crash-id') },
  { kind: 'malformed: unknown search field', send: (ctx) => ordinaryGet(ctx, 'malformed: unknown search field', '/api/SuperSearch/?no_such_field=1') },
  { kind: 'malformed: bad date', send: (ctx) => ordinaryGet(ctx, 'malformed: bad date', `/api/SuperSearch/?date=${encodeURIComponent('>=yesterday-ish')}`) },
  { kind: 'malformed: report of an unknown crash', send: (ctx) => ordinaryGet(ctx, 'malformed: report of an unknown crash', '/report/index/00000000-0000-0000-0000-000000261128') },
];

async function submitTo(ctx: Context, annotations: [string, string][], dump: Buffer | undefined, gzip: boolean, kind: string): Promise<Answer> {
  const { headers, body } = breakpadBody(dump, 'crash.dmp', annotations, gzip);
  return ctx.stats.record(kind, await http(ctx.url, '/submit', { method: 'POST', headers, body, agent: ctx.ordinary, timeoutMs: ORDINARY_TIMEOUT_MS }));
}

/** The ordinary traffic, by weight. */
const ORDINARY: { weight: number; run(ctx: Context): Promise<unknown> }[] = [
  {
    weight: 4,
    run: async (ctx) => {
      const annotations: [string, string][] = [['ProductName', 'Soak'], ['Version', pick(ctx, ['1.0', '1.1', '2.0'])], ['ReleaseChannel', 'release']];
      // Some carry the abort message that the exponential regex search feeds on.
      if (ctx.rand() < 0.05) annotations.push(['AbortMessage', A_RUN]);
      const answer = await submitTo(ctx, annotations, pick(ctx, ctx.corpus.dumps), ctx.rand() < 0.3, 'submit');
      const match = /CrashID=bp-([0-9a-f-]{36})/.exec(answer.body);
      if (match) {
        ctx.accepted.push(match[1]);
        ctx.submitLatencies.push(answer.ms);
      }
    },
  },
  {
    weight: 2,
    run: async (ctx) => {
      const answer = await ordinaryGet(ctx, 'super search', `/api/SuperSearch/?${pick(ctx, SEARCHES)}`);
      if (answer.status !== 200 || ctx.signatures.size > 50) return;
      try {
        const facets = (JSON.parse(answer.body) as { facets?: { signature?: { term: string }[] } }).facets;
        for (const f of facets?.signature ?? []) ctx.signatures.add(f.term);
      } catch {
        // A truncated or odd answer: nothing to learn from it.
      }
    },
  },
  { weight: 1, run: (ctx) => (ctx.accepted.length ? ordinaryGet(ctx, 'report page', `/report/index/${pick(ctx, ctx.accepted)}`) : Promise.resolve()) },
  { weight: 1, run: (ctx) => (ctx.accepted.length ? ordinaryGet(ctx, 'processed crash api', `/api/ProcessedCrash/?crash_id=${pick(ctx, ctx.accepted)}`) : Promise.resolve()) },
  { weight: 1, run: (ctx) => ordinaryGet(ctx, 'top crashers', `/topcrashers/?product=Soak&days=${pick(ctx, ['1', '7', '14'])}`) },
  { weight: 0.5, run: (ctx) => (ctx.signatures.size ? ordinaryGet(ctx, 'signature page', `/signature/?signature=${encodeURIComponent(pick(ctx, [...ctx.signatures]))}`) : Promise.resolve()) },
  { weight: 0.5, run: (ctx) => ordinaryGet(ctx, 'home page', '/') },
  { weight: 0.5, run: (ctx) => ordinaryGet(ctx, 'search page', '/search/?product=Soak&_facets=signature') },
  {
    weight: 0.2,
    run: async (ctx) => {
      const sym = pick(ctx, ctx.corpus.symbols);
      const { headers, body } = multipartFile('file', sym.name, sym.bytes);
      ctx.stats.record('symbol upload', await http(ctx.url, '/symbols/upload', { method: 'POST', headers: { ...headers, 'auth-token': ctx.token }, body, agent: ctx.ordinary, timeoutMs: ORDINARY_TIMEOUT_MS }));
    },
  },
  { weight: 0.7, run: (ctx) => pick(ctx, MALFORMED).send(ctx) },
];

// ---------------------------------------------------------------------------------------
// Hostile requests (issue 10's findings), one at a time.

let bombCache: Buffer | undefined;
/** Millions of empty, nameless parts: ~24 MB decompressed, tens of KB sent. */
function emptyPartsBomb(): Buffer {
  const head = '--x\r\nContent-Disposition: form-data; name="ProductName"\r\n\r\nHostile\r\n';
  const part = '--x\r\n\r\n\r\n';
  return (bombCache ??= gzipSync(Buffer.concat([Buffer.from(head), Buffer.from(part.repeat(Math.floor((24 * 1024 * 1024) / part.length))), Buffer.from('--x--\r\n')])));
}

const hostile = (ctx: Context, path: string, options: Omit<RequestOptions, 'timeoutMs'> = {}): Promise<Answer> => http(ctx.url, path, { from: HOSTILE_FROM, timeoutMs: HOSTILE_TIMEOUT_MS, ...options });
const formPost = (body: string, extra: Record<string, string> = {}): Omit<RequestOptions, 'timeoutMs'> => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra },
  body,
});

async function loginCsrf(ctx: Context, from: string): Promise<{ cookie: string; token: string } | undefined> {
  const answer = await http(ctx.url, '/login', { from, timeoutMs: HOSTILE_TIMEOUT_MS });
  const setCookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((c) => c.startsWith('mayday_login_csrf='));
  if (!setCookie) return undefined;
  const pair = setCookie.slice(0, setCookie.indexOf(';'));
  return { cookie: pair, token: decodeURIComponent(pair.slice(pair.indexOf('=') + 1)) };
}

/** Several requests as one outcome: the worst status, the longest time. */
function worst(answers: Answer[]): Answer {
  const failed = answers.find((a) => a.status === undefined);
  const chosen = failed ?? answers.reduce((a, b) => ((b.status ?? 0) > (a.status ?? 0) ? b : a));
  return { ...chosen, ms: Math.max(...answers.map((a) => a.ms)), timedOut: answers.some((a) => a.timedOut) };
}

/** A client announcing a large body and sending a byte every 2 s; the soak gives up after TRICKLE_FOR_MS. */
function trickler(ctx: Context): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer: Omit<Answer, 'ms' | 'headers' | 'bytes'>): void => {
      if (done) return;
      done = true;
      clearInterval(drip);
      clearTimeout(timer);
      resolve({ headers: {}, bytes: 0, ...answer, ms: performance.now() - started });
    };
    const req = request(`${ctx.url}/submit`, { method: 'POST', localAddress: HOSTILE_FROM, agent: false, headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '1000000' } }, (res) => {
      res.resume();
      res.on('end', () => finish({ status: res.statusCode, body: '', timedOut: false }));
      res.on('error', () => finish({ status: res.statusCode, body: '', timedOut: false }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ body: '', error: `closed by the server (${error.code ?? error.message})`, timedOut: false }));
    req.on('close', () => finish({ body: '', error: 'closed by the server', timedOut: false }));
    req.write('--x\r\nContent-Disposition: form-data; name="ProductName"\r\n\r\n');
    const drip = setInterval(() => req.write('a'), 2000);
    const timer = setTimeout(() => {
      finish({ body: '', error: `still open after ${TRICKLE_FOR_MS} ms`, timedOut: true });
      req.destroy();
    }, TRICKLE_FOR_MS);
  });
}

/** A successful login asking to go to `next` afterwards; a redirect off the node is noted as a finding. */
async function loginWithNext(ctx: Context, next: string): Promise<Answer> {
  const csrf = await loginCsrf(ctx, HOSTILE_FROM);
  if (!csrf) return { headers: {}, body: '', bytes: 0, ms: 0, error: 'no login form', timedOut: false };
  const answer = await hostile(ctx, '/login', formPost(`username=soak&password=${encodeURIComponent(PASSWORD)}&next=${encodeURIComponent(next)}&csrf_token=${encodeURIComponent(csrf.token)}`, { cookie: csrf.cookie }));
  if (offSite(ctx, answer.headers.location as string | undefined)) ctx.findings.set('open redirect', (ctx.findings.get('open redirect') ?? 0) + 1);
  return answer;
}

/** Whether a redirect leads off the node (a browser resolves `/\t/evil.com` to evil.com). */
function offSite(ctx: Context, location: string | undefined): boolean {
  if (location === undefined) return false;
  try {
    return new URL(location, ctx.url).origin !== new URL(ctx.url).origin;
  } catch {
    return false;
  }
}

const HOSTILE: { kind: string; send(ctx: Context): Promise<Answer> }[] = [
  { kind: 'hostile 1: quadratic form to /login', send: (ctx) => hostile(ctx, '/login', formPost('a=&'.repeat(80_000))) },
  { kind: 'hostile 1: quadratic form to /api/Reprocessing/', send: (ctx) => hostile(ctx, '/api/Reprocessing/', formPost('crash_ids=&'.repeat(80_000))) },
  {
    kind: 'hostile 1: 20 MB JSON to /api/Reprocessing/',
    send: (ctx) =>
      hostile(ctx, '/api/Reprocessing/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ crash_ids: Array.from({ length: 500_000 }, () => '00000000-0000-0000-0000-000000000000') }) }),
  },
  { kind: 'hostile 2: regex @(.*){8}!', send: (ctx) => hostile(ctx, `/api/SuperSearch/?signature=${encodeURIComponent('@(.*){8}!')}`) },
  { kind: 'hostile 2: regex @(a|a)*b', send: (ctx) => hostile(ctx, `/api/SuperSearch/?abort_message=${encodeURIComponent('@(a|a)*b')}`) },
  { kind: 'hostile 3: 600 _aggs', send: (ctx) => hostile(ctx, `/api/SuperSearch/?_aggs.uuid=${Array(600).fill('uuid').join(',')}&_facets_size=10000`) },
  { kind: 'hostile 4: signature page 0000..9999', send: (ctx) => hostile(ctx, '/signature/?signature=crash&from=0000-01-01&to=9999-12-31') },
  { kind: 'hostile 4: top crashers 0000..9999', send: (ctx) => hostile(ctx, '/topcrashers/?from=0000-01-01&to=9999-12-31') },
  { kind: 'hostile 5: gzip bomb of empty parts', send: (ctx) => hostile(ctx, '/submit', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': 'gzip' }, body: emptyPartsBomb() }) },
  {
    kind: 'hostile 6: 30 parallel password guesses',
    send: async (ctx) => {
      const csrf = await loginCsrf(ctx, GUESSER_FROM);
      if (!csrf) return { headers: {}, body: '', bytes: 0, ms: 0, error: 'no login form', timedOut: false };
      const guesses = Array.from({ length: 30 }, (_, i) =>
        http(ctx.url, '/login', { from: GUESSER_FROM, timeoutMs: HOSTILE_TIMEOUT_MS, ...formPost(`username=guess-target&password=guess-${i}&csrf_token=${encodeURIComponent(csrf.token)}`, { cookie: csrf.cookie }) }),
      );
      return worst(await Promise.all(guesses));
    },
  },
  { kind: 'hostile 7: open redirect next=/%09/evil.com after login', send: (ctx) => loginWithNext(ctx, '/\t/evil.com') },
  { kind: 'hostile 7: next=/%0B/x after login', send: (ctx) => loginWithNext(ctx, '/\u000b/x') },
  {
    kind: 'hostile 9: 5 MB user name',
    send: async (ctx) => {
      const csrf = await loginCsrf(ctx, HOSTILE_FROM);
      if (!csrf) return { headers: {}, body: '', bytes: 0, ms: 0, error: 'no login form', timedOut: false };
      return hostile(ctx, '/login', formPost(`username=${'u'.repeat(5 * 1024 * 1024)}&password=x&csrf_token=${encodeURIComponent(csrf.token)}`, { cookie: csrf.cookie }));
    },
  },
  { kind: 'hostile 10: 5 trickling /submit clients', send: async (ctx) => worst(await Promise.all(Array.from({ length: 5 }, () => trickler(ctx)))) },
  {
    kind: 'hostile 11: extra JSON 5,000 deep',
    send: (ctx) => {
      const { headers, body } = breakpadBody(ctx.corpus.dumps[0], 'crash.dmp', [['ProductName', 'Hostile'], ['extra', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)]], false);
      return hostile(ctx, '/submit', { method: 'POST', headers, body });
    },
  },
  { kind: 'hostile 12: raw dump without permission', send: (ctx) => hostile(ctx, `/api/RawCrash/?crash_id=${ctx.accepted[0] ?? '00000000-0000-0000-0000-000000261128'}&format=raw`) },
  {
    kind: 'hostile 13: ?tok%65n= on a symbol upload',
    send: (ctx) => {
      const sym = ctx.corpus.symbols[0];
      const { headers, body } = multipartFile('file', sym.name, sym.bytes);
      return hostile(ctx, `/symbols/upload?tok%65n=${encodeURIComponent(ctx.token)}`, { method: 'POST', headers, body });
    },
  },
  { kind: 'hostile 14: repeated crash_id', send: (ctx) => hostile(ctx, `/api/ProcessedCrash/?crash_id=${ctx.accepted[0] ?? 'x'}&crash_id=${ctx.accepted[0] ?? 'x'}`) },
];

// ---------------------------------------------------------------------------------------
// Verification: the queue drained, and every returned crash id processed.

async function waitForDrain(ctx: Context, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await http(ctx.url, '/status/json', { agent: ctx.ordinary, timeoutMs: 10_000 });
    if (answer.status === 200) {
      try {
        const status = JSON.parse(answer.body) as { waiting_total: number; queues: { in_flight: number }[] };
        if (status.waiting_total === 0 && status.queues.every((q) => q.in_flight === 0)) return true;
      } catch {
        // Try again.
      }
    }
    await sleep(1000);
  }
  return false;
}

/** Every processed crash of the soak's product, by Super Search (paged; the soak's own token keeps it off the anonymous limit). */
async function processedIds(ctx: Context, since: number): Promise<Set<string> | undefined> {
  const ids = new Set<string>();
  for (let offset = 0; ; offset += 1000) {
    const query = `product=Soak&date=${encodeURIComponent(`>=${new Date(since - 3_600_000).toISOString()}`)}&_columns=uuid&_sort=date&_facets_size=0&_results_number=1000&_results_offset=${offset}`;
    const answer = await http(ctx.url, `/api/SuperSearch/?${query}`, { agent: ctx.ordinary, timeoutMs: 60_000, keep: 64 * 1024 * 1024, headers: { 'auth-token': ctx.token } });
    if (answer.status !== 200) return undefined;
    const page = JSON.parse(answer.body) as { total: number; hits: { uuid: string }[] };
    for (const hit of page.hits) ids.add(hit.uuid);
    if (page.hits.length === 0 || ids.size >= page.total) return ids;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How often the node's RSS is read for the bound (the per-minute samples are for the log). */
const RSS_EVERY_MS = 5000;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---------------------------------------------------------------------------------------
// The run

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  checkBuild();
  const runMs = options.minutes * 60_000;
  const warmupMs = Math.min(3 * 60_000, runMs * 0.1);
  const sampleEveryMs = Math.min(60_000, Math.max(5000, runMs / 12));

  const root = mkdtempSync(join(tmpdir(), 'mayday-soak-'));
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  const out = options.out ?? join(root, 'soak-results.json');
  const configPath = join(root, 'node.ini');
  writeFileSync(configPath, '[log]\nlevel = warn\n');
  log(`soak: ${options.minutes} min at ${options.rate} requests/s${options.hostileEverySeconds > 0 ? `, a hostile request every ${options.hostileEverySeconds} s` : ', no hostile requests'}; working in ${root}`);

  const token = (await runMayday(['tokens', 'create', '--user', 'ci', '--permissions', 'upload_symbols', '--data-dir', dataDir])).stdout.trim().split('\n').at(-1)!.trim();
  const user = await runMayday(['users', 'create', 'soak', '--password', PASSWORD, '--data-dir', dataDir]);
  if (user.code !== 0) throw new Error(`creating the soak user failed: ${user.stderr}`);
  const node = await startNode(dataDir, configPath, join(root, 'node.log'));
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('soak: interrupted; stopping the node');
    node.child.kill('SIGKILL');
  });

  try {
    const upload = await runMayday(['symbols', 'upload', join(CORPUS, 'symbols'), '--url', node.url, '--token', token]);
    if (upload.code !== 0) throw new Error(`uploading the corpus symbols failed: ${upload.stderr}`);
    log(`soak: node ${node.url} (pid ${node.pid}), corpus symbols uploaded`);

    const ctx: Context = {
      url: node.url,
      token,
      rand: seededRandom(options.seed),
      corpus: loadCorpus(),
      stats: new Stats(),
      ordinary: new Agent({ keepAlive: true, maxSockets: ORDINARY_CONCURRENCY, localAddress: ORDINARY_FROM } as ConstructorParameters<typeof Agent>[0]),
      accepted: [],
      signatures: new Set(),
      submitLatencies: [],
      findings: new Map(),
    };
    const started = Date.now();
    const elapsed = (): number => Date.now() - started;
    const samples: { t_s: number; rss_mb: number | null; accepted: number }[] = [];
    const sample = (): number | null => {
      const rss = rssBytes(node.pid);
      samples.push({ t_s: Math.round(elapsed() / 1000), rss_mb: rss === null ? null : Math.round(rss / 1048576), accepted: ctx.accepted.length });
      return rss;
    };
    sample();

    // RSS moves by tens of megabytes with the garbage collector's phase, so one reading is
    // noise: it is read every RSS_EVERY_MS, and "after warm-up" and "at the end" are the
    // medians of the readings in the minute after the warm-up and in the run's last minute.
    const readings: { ms: number; rss: number }[] = [];
    const reader = setInterval(() => {
      const rss = rssBytes(node.pid);
      if (rss !== null) readings.push({ ms: elapsed(), rss });
    }, RSS_EVERY_MS);
    const rssWindowMs = Math.min(60_000, Math.max(RSS_EVERY_MS * 3, runMs * 0.05));
    const warmupTimer = setTimeout(() => {
      const s = sample();
      log(`soak: warm-up over, RSS ${s === null ? '?' : Math.round(s / 1048576)} MB`);
    }, warmupMs);
    const sampler = setInterval(() => {
      const s = sample();
      log(`soak: ${Math.round(elapsed() / 1000)} s, RSS ${s === null ? '?' : Math.round(s / 1048576)} MB, ${ctx.accepted.length} crashes accepted`);
    }, sampleEveryMs);

    // Health probes, one at a time.
    const heartbeats: number[] = [];
    let heartbeatFailures = 0;
    let loading = true;
    const probing = (async () => {
      while (loading && !interrupted) {
        const answer = await http(node.url, '/__lbheartbeat__', { from: ORDINARY_FROM, timeoutMs: PROBE_TIMEOUT_MS });
        heartbeats.push(answer.ms);
        if (answer.status !== 200) heartbeatFailures++;
        await sleep(Math.max(0, PROBE_EVERY_MS - answer.ms));
      }
    })();

    // Hostile requests, one at a time, in turn.
    const hostileLoop = (async () => {
      if (options.hostileEverySeconds <= 0) return;
      for (let i = 0; loading && !interrupted; i++) {
        await sleep(options.hostileEverySeconds * 1000);
        if (!loading || interrupted) break;
        const h = HOSTILE[i % HOSTILE.length];
        ctx.stats.record(h.kind, await h.send(ctx).catch((error: unknown) => ({ headers: {}, body: '', bytes: 0, ms: 0, error: String(error), timedOut: false })));
      }
    })();

    // Ordinary traffic: a tick every 1/rate s; skipped (and counted) when the bound of requests in flight is reached.
    const totalWeight = ORDINARY.reduce((t, o) => t + o.weight, 0);
    const inFlight = new Set<Promise<unknown>>();
    let skipped = 0;
    const tickMs = 1000 / options.rate;
    for (let tick = 0; elapsed() < runMs && !interrupted; tick++) {
      if (inFlight.size >= ORDINARY_CONCURRENCY) skipped++;
      else {
        let r = ctx.rand() * totalWeight;
        const task = ORDINARY.find((o) => (r -= o.weight) < 0) ?? ORDINARY[0];
        const p: Promise<unknown> = task.run(ctx).catch((error: unknown) => log(`soak: request failed in the soak itself: ${String(error)}`));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      await sleep(Math.max(0, started + (tick + 1) * tickMs - Date.now()));
    }
    loading = false;
    clearTimeout(warmupTimer);
    clearInterval(sampler);
    clearInterval(reader);
    sample();
    const loadMs = elapsed();
    const afterWarmup = median(readings.filter((r) => r.ms >= warmupMs && r.ms < warmupMs + rssWindowMs).map((r) => r.rss));
    const rssAtEnd = median(readings.filter((r) => r.ms >= loadMs - rssWindowMs).map((r) => r.rss));
    log(`soak: load done after ${Math.round(elapsed() / 1000)} s; waiting for requests in flight, then for the queue to drain`);
    await Promise.all([...inFlight, probing, hostileLoop]);

    const drained = interrupted ? false : await waitForDrain(ctx, Math.max(120_000, runMs / 5));
    const processed = interrupted ? undefined : await processedIds(ctx, started);
    const acceptedSet = new Set(ctx.accepted);
    const missing = processed ? ctx.accepted.filter((id) => !processed.has(id)) : ctx.accepted;
    const unexpected = processed ? [...processed].filter((id) => !acceptedSet.has(id)) : [];
    const rssAfterDrain = rssBytes(node.pid);
    const tokenInLog = readFileSync(node.logPath, 'utf8').split(token).length - 1;

    const afterWarmupMb = afterWarmup === null ? null : afterWarmup / 1048576;
    const atEndMb = rssAtEnd === null ? null : rssAtEnd / 1048576;
    const ratio = afterWarmupMb && atEndMb ? atEndMb / afterWarmupMb : null;
    const rssWithin = ratio !== null && Math.abs(ratio - 1) <= 0.1;
    const crashesMatch = processed !== undefined && missing.length === 0 && unexpected.length === 0 && ctx.accepted.length > 0;
    const summary = {
      pass: rssWithin && crashesMatch,
      minutes: options.minutes,
      rate_per_second: options.rate,
      hostile_every_seconds: options.hostileEverySeconds,
      seed: options.seed,
      node: { url: node.url, pid: node.pid, data_dir: dataDir, log: node.logPath },
      rss: {
        warmup_seconds: Math.round(warmupMs / 1000),
        window_seconds: Math.round(rssWindowMs / 1000),
        readings: readings.length,
        after_warmup_mb: round(afterWarmupMb),
        at_end_mb: round(atEndMb),
        after_drain_mb: rssAfterDrain === null ? null : round(rssAfterDrain / 1048576),
        ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
        within_10_percent: rssWithin,
        samples,
      },
      heartbeat: { ...latencySummary(heartbeats), failures: heartbeatFailures },
      submit: latencySummary(ctx.submitLatencies),
      crashes: {
        accepted: ctx.accepted.length,
        processed: processed?.size ?? null,
        missing: missing.length,
        missing_ids: missing.slice(0, 20),
        unexpected: unexpected.length,
        queue_drained: drained,
        match: crashesMatch,
      },
      ordinary_ticks_skipped: skipped,
      findings: { ...Object.fromEntries(ctx.findings), token_in_log: tokenInLog },
      requests: ctx.stats.toJSON(),
    };
    writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
    printSummary(summary);
    log(`soak: results written to ${out}`);
    return summary.pass ? 0 : 1;
  } finally {
    if (!interrupted) await stopNode(node);
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

function log(line: string): void {
  process.stderr.write(line + '\n');
}

function printSummary(s: {
  pass: boolean;
  rss: { after_warmup_mb: number | null; at_end_mb: number | null; ratio: number | null; within_10_percent: boolean; warmup_seconds: number; window_seconds: number };
  heartbeat: { count: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null; failures: number };
  submit: { count: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null };
  crashes: { accepted: number; processed: number | null; missing: number; unexpected: number; queue_drained: boolean; match: boolean };
  requests: object;
  findings: object;
}): void {
  const lines = [
    '',
    `  RSS after warm-up (${s.rss.warmup_seconds} s; medians over ${s.rss.window_seconds} s): ${s.rss.after_warmup_mb} MB; at end: ${s.rss.at_end_mb} MB; ratio ${s.rss.ratio}: ${s.rss.within_10_percent ? 'PASS' : 'FAIL'} (within 10%)`,
    `  crashes: ${s.crashes.accepted} ids returned, ${s.crashes.processed ?? '?'} processed, ${s.crashes.missing} missing, ${s.crashes.unexpected} unexpected; queue drained: ${s.crashes.queue_drained}: ${s.crashes.match ? 'PASS' : 'FAIL'}`,
    `  /__lbheartbeat__: ${s.heartbeat.count} probes, p50 ${s.heartbeat.p50_ms} ms, p99 ${s.heartbeat.p99_ms} ms, max ${s.heartbeat.max_ms} ms, ${s.heartbeat.failures} failed`,
    `  /submit: ${s.submit.count} accepted, p50 ${s.submit.p50_ms} ms, p99 ${s.submit.p99_ms} ms, max ${s.submit.max_ms} ms`,
    '  requests:',
    ...Object.entries(s.requests as Record<string, { count: number; p50_ms: number; max_ms: number; statuses: Record<string, number> }>).map(
      ([kind, k]) => `    ${kind.padEnd(52)} ${String(k.count).padStart(6)}  p50 ${String(k.p50_ms).padStart(8)} ms  max ${String(k.max_ms).padStart(8)} ms  ${JSON.stringify(k.statuses)}`,
    ),
    `  findings: ${JSON.stringify(s.findings)}`,
    `  soak: ${s.pass ? 'PASS' : 'FAIL'}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`soak: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
