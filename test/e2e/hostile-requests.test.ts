/**
 * Acceptance of issue 10, "no request can stall the node": on a real all-in-one node (the
 * `mayday` command, crashes processed so that searches have rows), each hostile request of
 * the security review is started and left running while the node is probed as a load
 * balancer and a crash reporter would probe it. While it is in flight, `/__lbheartbeat__`
 * must answer within 250 ms and a `/submit` of a corpus dump within 1 s (each bound plus
 * the node's own idle latency, measured first). The hostile request itself must then end
 * with a clear answer well within a few seconds: a 4xx for the requests that only deserve
 * a refusal; for those that are legitimate once bounded (a regular expression run by a
 * linear-time engine, a date range clamped), any answer but a 5xx.
 *
 * Hostile requests come from 127.0.0.2 and the probes from 127.0.0.1, as they would from
 * different hosts: per-client limits neither help nor hurt the probes. A case that leaves
 * the node wedged, or with lasting work (a bomb it accepted), gets the node killed; the
 * next case starts a fresh one on a copy of the seeded data directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { breakpadBody } from '../../src/cli/commands/submit.js';
import { CORPUS, corpusDumps } from '../support/corpus.js';
import { eventually, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';

const HEARTBEAT_BOUND_MS = 250;
const SUBMIT_BOUND_MS = 1000;
/** How long a hostile request may take to be answered: "not a hang over a few seconds". */
const HOSTILE_DEADLINE_MS = 3000;
const HOSTILE = '127.0.0.2';
const PROBE = '127.0.0.1';
const PASSWORD = 'correct horse battery staple';
/** A crash whose abort message makes `(a|a)*b` backtrack exponentially. */
const A_RUN = 'a'.repeat(30);

const dumps = corpusDumps();
const probeDump = readFileSync(dumps[0].path);
const dirs: string[] = [];
let template: string;

// ---------------------------------------------------------------------------------------
// HTTP with deadlines (node:http: precise control of addresses, bodies and timing).

interface Outcome {
  /** The answer's status, if one came. */
  status?: number;
  body: string;
  ms: number;
  /** Set when no answer came: the client gave up at its deadline, or the connection failed or was closed. */
  error?: string;
  timedOut: boolean;
}

interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  from?: string;
  deadlineMs?: number;
}

/** One request on its own connection; resolves (never rejects) with what happened by the deadline. */
function send(base: string, path: string, options: SendOptions = {}): Promise<Outcome> {
  const started = performance.now();
  const deadlineMs = options.deadlineMs ?? HOSTILE_DEADLINE_MS;
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: Omit<Outcome, 'ms'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...outcome, ms: performance.now() - started });
    };
    // As curl does: the length announced, the body sent as fast as the server takes it.
    const headers = options.body === undefined ? options.headers : { 'content-length': String(Buffer.byteLength(options.body)), ...options.headers };
    const req = request(`${base}${path}`, { method: options.method ?? 'GET', headers, localAddress: options.from ?? HOSTILE, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        // Kept short: an answer may be huge (that can be the problem being tested).
        if (body.length < 4096) body += chunk.toString('latin1');
      });
      const answered = (): void => finish({ status: res.statusCode, body, timedOut: false });
      res.on('end', answered);
      // A server refusing a large body answers early and closes: the answer still counts.
      res.on('error', answered);
      res.on('close', answered);
    });
    const timer = setTimeout(() => {
      finish({ body: '', error: `no answer within ${deadlineMs} ms`, timedOut: true });
      req.destroy();
    }, deadlineMs);
    // Writing a large body to a server that already answered fails (EPIPE, ECONNRESET) just
    // before its answer is read: give the answer a moment to arrive.
    req.on('error', (error: NodeJS.ErrnoException) => setTimeout(() => finish({ body: '', error: error.code ?? error.message, timedOut: false }), 200));
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

const form = (body: string): SendOptions => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

function submitOptions(annotations: [string, string][], dump: Buffer | undefined, from: string, deadlineMs?: number): SendOptions {
  const { headers, body } = breakpadBody(dump, 'crash.dmp', annotations, false);
  return { method: 'POST', headers, body, from, deadlineMs };
}

/** Several hostile requests as one: the slowest time, the worst answer. */
async function together(outcomes: Promise<Outcome>[]): Promise<Outcome & { statuses: string }> {
  const all = await Promise.all(outcomes);
  const worst = all.find((o) => o.status === undefined) ?? all.reduce((a, b) => ((b.status ?? 0) > (a.status ?? 0) ? b : a));
  const counts = new Map<string, number>();
  for (const o of all) counts.set(String(o.status ?? o.error), (counts.get(String(o.status ?? o.error)) ?? 0) + 1);
  return { ...worst, ms: Math.max(...all.map((o) => o.ms)), timedOut: all.some((o) => o.timedOut), statuses: [...counts].map(([k, n]) => `${n}x ${k}`).join(', ') };
}

/** A login form's CSRF pair, as a browser (or an attacker) gets it from GET /login. */
async function loginCsrf(base: string): Promise<{ cookie: string; token: string }> {
  return new Promise((resolve, reject) => {
    request(`${base}/login`, { localAddress: HOSTILE, agent: false }, (res) => {
      res.resume();
      const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('mayday_login_csrf='));
      if (!setCookie) return reject(new Error('no login CSRF cookie'));
      const pair = setCookie.slice(0, setCookie.indexOf(';'));
      resolve({ cookie: pair, token: decodeURIComponent(pair.slice(pair.indexOf('=') + 1)) });
    })
      .on('error', reject)
      .end();
  });
}

/**
 * A client that announces a large body and sends one byte a second: never idle long enough
 * for the collector's idle timeout (2 s here), so only a minimum rate, a total deadline or a
 * connection cap ends it. Ended by the server means an answer, or the connection closed.
 */
function trickle(base: string, deadlineMs: number): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: Omit<Outcome, 'ms'>): void => {
      if (done) return;
      done = true;
      clearInterval(drip);
      clearTimeout(timer);
      resolve({ ...outcome, ms: performance.now() - started });
    };
    const req = request(`${base}/submit`, {
      method: 'POST',
      localAddress: HOSTILE,
      agent: false,
      headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '1000000' },
    }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => finish({ status: res.statusCode, body, timedOut: false }));
      res.on('error', () => finish({ status: res.statusCode, body, timedOut: false }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ body: '', error: `closed by the server (${error.code ?? error.message})`, timedOut: false }));
    req.on('close', () => finish({ body: '', error: 'closed by the server', timedOut: false }));
    req.write('--x\r\nContent-Disposition: form-data; name="ProductName"\r\n\r\n');
    const drip = setInterval(() => req.write('a'), 1000);
    const timer = setTimeout(() => {
      finish({ body: '', error: `still sending after ${deadlineMs} ms`, timedOut: true });
      req.destroy();
    }, deadlineMs);
  });
}

// ---------------------------------------------------------------------------------------
// Nodes: a seeded template data directory, and fresh nodes on copies of it.

function nodeIni(dataDir: string): string {
  const path = join(dataDir, 'node.ini');
  // A trickler (one byte a second) is never idle for body_timeout: only the minimum rate, the
  // deadline or a connection cap can end it. Their grace is shortened to fit the test.
  writeFileSync(path, '[collector]\nbody_timeout = 2s\nmin_rate_grace = 2s\n[processor]\npoll_interval = 50ms\n[log]\nlevel = warn\n');
  return path;
}

async function submitted(url: string, annotations: [string, string][], dump: Buffer): Promise<string> {
  const answer = await send(url, '/submit', submitOptions(annotations, dump, PROBE, 10_000));
  const match = /CrashID=bp-([0-9a-f-]{36})/.exec(answer.body);
  if (!match) throw new Error(`submission refused: ${answer.status} ${answer.error ?? answer.body}`);
  return match[1];
}

async function processedCount(url: string): Promise<number> {
  const answer = await send(url, '/api/SuperSearch/?_results_number=0&_facets_size=0', { from: PROBE, deadlineMs: 10_000 });
  return answer.status === 200 ? (JSON.parse(answer.body) as { total: number }).total : -1;
}

interface Node {
  proc: MaydayProcess;
  url: string;
  /** /submit and /__lbheartbeat__ latency of the idle node. */
  idleSubmitMs: number;
  idleHeartbeatMs: number;
}
let current: Node | undefined;

async function freshNode(): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mayday-e2e-hostile-'));
  dirs.push(dataDir);
  cpSync(template, dataDir, { recursive: true });
  const proc = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--config', nodeIni(dataDir)]);
  // Warm up: the first crash loads its symbols; later probes are then processed at once.
  const before = await processedCount(proc.url);
  const warm = await send(proc.url, '/submit', submitOptions([['ProductName', 'Example'], ['Version', '1.0']], probeDump, PROBE, 10_000));
  await eventually(async () => ((await processedCount(proc.url)) > before ? true : undefined), 20_000, 'the warm-up crash');
  const heartbeats: number[] = [];
  for (let i = 0; i < 3; i++) heartbeats.push((await send(proc.url, '/__lbheartbeat__', { from: PROBE })).ms);
  return { proc, url: proc.url, idleSubmitMs: warm.ms, idleHeartbeatMs: Math.max(...heartbeats) };
}

async function node(): Promise<Node> {
  current ??= await freshNode();
  return current;
}

async function retire(): Promise<void> {
  if (!current) return;
  const { proc } = current;
  current = undefined;
  await proc.stop('SIGKILL');
}

beforeAll(async () => {
  template = mkdtempSync(join(tmpdir(), 'mayday-e2e-hostile-template-'));
  dirs.push(template);
  cpSync(join(CORPUS, 'symbols'), join(template, 'symbols'), { recursive: true });
  const user = await runMayday(['users', 'create', 'admin', '--admin', '--password', PASSWORD, '--data-dir', template]);
  if (user.code !== 0) throw new Error(user.stderr);
  const seed = await startMayday(['start', '--data-dir', template, '--port', '0', '--config', nodeIni(template)]);
  try {
    for (const dump of dumps) await submitted(seed.url, [['ProductName', 'Example'], ['Version', '1.0']], readFileSync(dump.path));
    await submitted(seed.url, [['ProductName', 'Example'], ['Version', '1.0'], ['AbortMessage', A_RUN]], probeDump);
    await eventually(async () => ((await processedCount(seed.url)) === dumps.length + 1 ? true : undefined), 30_000, 'the seed crashes to be processed');
  } finally {
    await seed.stop('SIGINT');
  }
}, 60_000);

afterAll(async () => {
  if (current) {
    await current.proc.stop('SIGINT');
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// The measurement.

interface HostileCase {
  name: string;
  /** `refused`: only a 4xx will do. `bounded`: legitimate once bounded, so any answer but a 5xx. */
  expect: 'refused' | 'bounded';
  /**
   * The server may end it by closing the connection instead of answering (a connection cap,
   * a trickler cut off, a large body refused unread: the client, still sending, then gets a
   * reset and may never read the answer). Only promptly, within the deadline.
   */
  closeIsAnAnswer?: boolean;
  deadlineMs?: number;
  attack(url: string, deadlineMs: number): Promise<Outcome & { statuses?: string }>;
  /** Whether this outcome left lasting work on the node (it accepted a bomb): the next case then gets a fresh node. */
  leavesWork?(outcome: Outcome): boolean;
}

async function heartbeatMs(url: string): Promise<number> {
  const answer = await send(url, '/__lbheartbeat__', { from: PROBE, deadlineMs: 2000 });
  return answer.status === 200 ? answer.ms : Number.POSITIVE_INFINITY;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function check(hostile: HostileCase): () => Promise<void> {
  return async () => {
    const n = await node();
    const deadlineMs = hostile.deadlineMs ?? HOSTILE_DEADLINE_MS;
    let healthyAfter = false;
    try {
      let settled = false;
      const inFlight = hostile.attack(n.url, deadlineMs).then((o) => {
        settled = true;
        return o;
      });
      // Let it reach the node and start its work.
      await sleep(100);
      const probes: number[] = [];
      const probing = (async () => {
        const until = performance.now() + 1500;
        do {
          probes.push(await heartbeatMs(n.url));
          await sleep(50);
        } while (!settled && performance.now() < until);
      })();
      const submit = send(n.url, '/submit', submitOptions([['ProductName', 'Example'], ['Version', '1.0']], probeDump, PROBE, 3000));
      const [answer, submitted] = await Promise.all([inFlight, submit, probing]);

      const what = `${hostile.name}: ${answer.statuses ?? answer.status ?? answer.error} after ${Math.round(answer.ms)} ms`;
      // The figures, for the closing note: MAYDAY_HOSTILE_FIGURES=1 npx vitest run test/e2e/hostile-requests.test.ts
      if (process.env.MAYDAY_HOSTILE_FIGURES) console.info(`${what}; heartbeat max ${Math.round(Math.max(...probes))} ms over ${probes.length} probes; /submit ${submitted.status ?? submitted.error} in ${Math.round(submitted.ms)} ms`);
      expect.soft(Math.max(...probes), `/__lbheartbeat__ latency (ms) while in flight (${what})`).toBeLessThan(HEARTBEAT_BOUND_MS + n.idleHeartbeatMs);
      expect.soft(submitted.status, `/submit status while in flight (${what})`).toBe(200);
      expect.soft(submitted.ms, `/submit latency (ms) while in flight (${what})`).toBeLessThan(SUBMIT_BOUND_MS + n.idleSubmitMs);
      expect.soft(answer.timedOut, `the hostile request hung past ${deadlineMs} ms (${what})`).toBe(false);
      const closed = hostile.closeIsAnAnswer === true && answer.status === undefined && !answer.timedOut;
      if (!closed) {
        expect.soft(answer.status, `the hostile request got no answer (${what})`).toBeDefined();
        if (hostile.expect === 'refused') expect.soft(answer.status! >= 400 && answer.status! < 500, `a 4xx refusal (${what})`).toBe(true);
        else expect.soft(answer.status! < 500, `any answer but a 5xx (${what})`).toBe(true);
      }
      healthyAfter = !answer.timedOut && !(hostile.leavesWork?.(answer) ?? false) && (await heartbeatMs(n.url)) < 500;
    } finally {
      // A node still busy with the attack (or left with its work) would spoil the next case.
      if (!healthyAfter) await retire();
    }
  };
}

// ---------------------------------------------------------------------------------------
// The hostile requests (finding numbers of issue 10).

/** ~2.8 M empty, nameless multipart parts: 25 MB once decompressed, ~25 KB gzipped. */
function emptyPartsBomb(): Buffer {
  const head = Buffer.from('--x\r\nContent-Disposition: form-data; name="ProductName"\r\n\r\nExample\r\n');
  const part = '--x\r\n\r\n\r\n';
  const parts = Buffer.from(part.repeat(Math.floor((24 * 1024 * 1024) / part.length)));
  return gzipSync(Buffer.concat([head, parts, Buffer.from('--x--\r\n')]));
}

/** `{"a":{"a":...}}`, `depth` levels. */
const deepJson = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const CASES: HostileCase[] = [
  {
    name: 'finding 1: a form of 80,000 repeated keys (240 KB) to POST /login, before any authentication',
    expect: 'refused',
    closeIsAnAnswer: true,
    attack: (url, deadlineMs) => send(url, '/login', { ...form('a=&'.repeat(80_000)), deadlineMs }),
  },
  {
    name: 'finding 1: a form of 80,000 repeated keys to POST /api/Reprocessing/, anonymous',
    expect: 'refused',
    closeIsAnAnswer: true,
    attack: (url, deadlineMs) => send(url, '/api/Reprocessing/', { ...form('crash_ids=&'.repeat(80_000)), deadlineMs }),
  },
  {
    name: 'finding 1: a 20 MB JSON body to POST /api/Reprocessing/, anonymous',
    expect: 'refused',
    closeIsAnAnswer: true,
    attack: (url, deadlineMs) =>
      send(url, '/api/Reprocessing/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ crash_ids: Array.from({ length: 500_000 }, () => '00000000-0000-0000-0000-000000000000') }),
        deadlineMs,
      }),
  },
  {
    name: 'finding 2: Super Search signature=@(.*){8}! (polynomial backtracking)',
    expect: 'bounded',
    attack: (url, deadlineMs) => send(url, `/api/SuperSearch/?signature=${encodeURIComponent('@(.*){8}!')}`, { deadlineMs }),
  },
  {
    name: 'finding 2: Super Search abort_message=@(a|a)*b (exponential backtracking)',
    expect: 'bounded',
    attack: (url, deadlineMs) => send(url, `/api/SuperSearch/?abort_message=${encodeURIComponent('@(a|a)*b')}`, { deadlineMs }),
  },
  {
    name: 'finding 2: the Super Search page with signature=@(.*){8}!',
    expect: 'bounded',
    attack: (url, deadlineMs) => send(url, `/search/?signature=${encodeURIComponent('@(.*){8}!')}`, { deadlineMs }),
  },
  {
    name: 'finding 3: _aggs.uuid with 600 sub-aggregations and _facets_size=10000',
    expect: 'refused',
    attack: (url, deadlineMs) => send(url, `/api/SuperSearch/?_aggs.uuid=${Array(600).fill('uuid').join(',')}&_facets_size=10000`, { deadlineMs }),
  },
  {
    name: 'finding 4: the signature page over 0000-01-01 .. 9999-12-31',
    expect: 'bounded',
    attack: (url, deadlineMs) => send(url, `/signature/?signature=${encodeURIComponent('crash_null_deref')}&from=0000-01-01&to=9999-12-31`, { deadlineMs }),
  },
  {
    name: 'finding 4: top crashers over 0000-01-01 .. 9999-12-31',
    expect: 'bounded',
    attack: (url, deadlineMs) => send(url, '/topcrashers/?from=0000-01-01&to=9999-12-31', { deadlineMs }),
  },
  {
    name: 'finding 4: a Super Search minute histogram over 0001-01-01 .. 9999-12-31',
    expect: 'bounded',
    attack: (url, deadlineMs) =>
      send(url, `/api/SuperSearch/?date=${encodeURIComponent('>=0001-01-01')}&date=${encodeURIComponent('<9999-12-31')}&_histogram.date=signature&_histogram_interval.date=1m`, { deadlineMs }),
  },
  {
    name: 'finding 5: a gzip bomb of millions of empty, nameless multipart parts to /submit',
    expect: 'refused',
    closeIsAnAnswer: true,
    attack: (url, deadlineMs) => send(url, '/submit', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': 'gzip' }, body: emptyPartsBomb(), deadlineMs }),
    leavesWork: (outcome) => outcome.status === 200,
  },
  {
    name: 'finding 6: 30 parallel password guesses for one account',
    expect: 'refused',
    attack: async (url, deadlineMs) => {
      const csrf = await loginCsrf(url);
      return together(
        Array.from({ length: 30 }, (_, i) =>
          send(url, '/login', { ...form(`username=admin&password=guess-number-${i}&csrf_token=${encodeURIComponent(csrf.token)}`), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrf.cookie }, deadlineMs }),
        ),
      );
    },
  },
  {
    name: 'finding 9: a 5 MB user name to POST /login',
    expect: 'refused',
    closeIsAnAnswer: true,
    attack: async (url, deadlineMs) => {
      const csrf = await loginCsrf(url);
      return send(url, '/login', { ...form(`username=${'u'.repeat(5 * 1024 * 1024)}&password=x&csrf_token=${encodeURIComponent(csrf.token)}`), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrf.cookie }, deadlineMs });
    },
  },
  {
    name: 'finding 10: 50 /submit clients trickling one byte a second',
    expect: 'refused',
    closeIsAnAnswer: true,
    deadlineMs: 6000,
    attack: (url, deadlineMs) => together(Array.from({ length: 50 }, () => trickle(url, deadlineMs))),
  },
  {
    name: 'finding 11: an extra JSON nested 5,000 deep in a submission',
    expect: 'refused',
    attack: (url, deadlineMs) => send(url, '/submit', submitOptions([['ProductName', 'Example'], ['Version', '1.0'], ['extra', deepJson(5000)]], probeDump, HOSTILE, deadlineMs)),
  },
  {
    name: 'finding 14: repeated crash_id parameters to the crash APIs',
    expect: 'refused',
    attack: (url, deadlineMs) => {
      const id = '00000000-0000-0000-0000-000000261128';
      return together(['/api/ProcessedCrash/', '/api/RawCrash/'].map((api) => send(url, `${api}?crash_id=${id}&crash_id=${id}`, { deadlineMs })));
    },
  },
];

describe('hostile requests against a running node', () => {
  for (const hostile of CASES) it(hostile.name, check(hostile), 30_000);
});
