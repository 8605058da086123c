import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { breakpadBody } from '../../src/cli/commands/submit.js';
import { corpusDumps } from './corpus.js';

/**
 * Crash reporters for fault tests: several clients, each submitting its crashes one after
 * the other to a collector, and retrying a crash as Breakpad and Crashpad do when the
 * collector cannot be reached or answers 5xx (after a pause; the same crash, on a new
 * connection). A crash counts as acknowledged only when an answer `CrashID=bp-<id>` was
 * read; every attempt is recorded, with its outcome, so that a test can tell which
 * attempts the collector may have stored without the client learning of it.
 *
 * Every attempt carries annotations naming it (`FaultClient`, `FaultCrash`, `FaultAttempt`),
 * which the raw crash keeps: a crash in the index that no client was told of can be traced
 * to the attempt that sent it.
 */

export interface Attempt {
  client: number;
  crash: number;
  attempt: number;
  outcome: 'accepted' | 'connection_error' | 'server_error' | 'refused';
  status?: number;
  crashId?: string;
  error?: string;
  startedAt: number;
  endedAt: number;
}

export interface ClientsResult {
  /** Crashes the clients submitted (each counted once, however many attempts it took). */
  submitted: number;
  /** Ids the collector answered, one per acknowledged crash. */
  crashIds: string[];
  attempts: Attempt[];
  /** Crashes given up on (deadline passed, or refused with 4xx): none in a passing test. */
  failures: string[];
}

export interface ClientsOptions {
  /** The collector's base URL. */
  collector: string;
  /** ProductName of every crash: a test counts its own crashes in the index by it. */
  product: string;
  clients: number;
  /** Crashes each client submits; with `until`, the most it submits. */
  crashesPerClient: number;
  /** Checked before each crash: once true, the clients submit no more (a load that lasts as long as the test needs). */
  until?: () => boolean;
  /** Sends client `n`'s bodies in slices with a pause after each (a slow link), or at once when undefined. */
  trickle?: (client: number) => { slices: number; pauseMs: number } | undefined;
  /** Pause before retrying a crash (default 200 ms). */
  retryDelayMs?: number;
  /** Longest time one crash may take to be acknowledged, retries included (default 120 s). */
  deadlineMs?: number;
  /** Pause between a client's crashes (default none). */
  pauseMs?: number;
  /** Longest time one attempt may wait for its answer (default 60 s). */
  attemptTimeoutMs?: number;
}

export interface RunningClients {
  readonly done: Promise<ClientsResult>;
  /** Crashes acknowledged so far. */
  accepted(): number;
  /** Attempts finished so far, by outcome. */
  outcomes(): Record<Attempt['outcome'], number>;
}

/** The corpus's smallest dumps (about 40-50 KB each): what processing costs matters here, not the dumps. */
export function smallDumps(count = 3): Buffer[] {
  return corpusDumps()
    .map((d) => readFileSync(d.path))
    .sort((a, b) => a.length - b.length)
    .slice(0, count);
}

export function runClients(options: ClientsOptions): RunningClients {
  const dumps = smallDumps();
  const attempts: Attempt[] = [];
  const crashIds: string[] = [];
  const failures: string[] = [];
  const retryDelayMs = options.retryDelayMs ?? 200;
  const deadlineMs = options.deadlineMs ?? 120_000;

  const client = async (n: number): Promise<void> => {
    for (let crash = 0; crash < options.crashesPerClient; crash++) {
      if (options.until?.()) break;
      const deadline = Date.now() + deadlineMs;
      for (let attempt = 1; ; attempt++) {
        const annotations: [string, string][] = [
          ['ProductName', options.product],
          ['Version', '1.0'],
          ['FaultClient', String(n)],
          ['FaultCrash', String(crash)],
          ['FaultAttempt', String(attempt)],
        ];
        const body = breakpadBody(dumps[(n + crash) % dumps.length], 'crash.dmp', annotations, false);
        const startedAt = Date.now();
        const result = await post(options.collector, body.headers, body.body, options.trickle?.(n), options.attemptTimeoutMs ?? 60_000);
        const record: Attempt = { client: n, crash, attempt, startedAt, endedAt: Date.now(), outcome: 'refused', ...result };
        attempts.push(record);
        if (result.status === 200) {
          const id = /^CrashID=bp-(.+)$/m.exec(result.text ?? '')?.[1];
          if (id) {
            record.outcome = 'accepted';
            record.crashId = id;
            crashIds.push(id);
            break;
          }
          record.error = `answered 200 without a crash id: ${result.text}`;
        } else if (result.status === undefined) record.outcome = 'connection_error';
        else if (result.status >= 500) record.outcome = 'server_error';
        else record.error = `answered ${result.status}: ${result.text}`;
        if (record.outcome === 'refused') {
          failures.push(`client ${n} crash ${crash}: ${record.error}`);
          break;
        }
        if (Date.now() > deadline) {
          failures.push(`client ${n} crash ${crash}: not acknowledged within ${deadlineMs} ms (last: ${record.error ?? record.status})`);
          break;
        }
        await sleep(retryDelayMs * (0.75 + Math.random() / 2));
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };

  const done = Promise.all(Array.from({ length: options.clients }, (_, n) => client(n))).then(() => ({
    submitted: new Set(attempts.map((a) => `${a.client}/${a.crash}`)).size,
    crashIds,
    attempts,
    failures,
  }));
  return {
    done,
    accepted: () => crashIds.length,
    outcomes: () => {
      const counts: Record<Attempt['outcome'], number> = { accepted: 0, connection_error: 0, server_error: 0, refused: 0 };
      for (const a of attempts) counts[a.outcome]++;
      return counts;
    },
  };
}

interface PostResult {
  status?: number;
  text?: string;
  error?: string;
}

/** One attempt, on a connection of its own (a crash reporter does not keep one open between crashes). */
function post(base: string, headers: Record<string, string>, body: Buffer, trickle: { slices: number; pauseMs: number } | undefined, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request(new URL('/submit', base), { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      // A status read, then the connection cut before the whole answer: no id was learnt.
      res.on('error', (error) => finish({ error: `answer cut off: ${error.message}` }));
      res.on('aborted', () => finish({ error: 'answer cut off' }));
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error: `${error.code ?? ''} ${error.message}`.trim() }));
    void (async () => {
      if (!trickle) return req.end(body);
      const size = Math.ceil(body.length / trickle.slices);
      for (let offset = 0; offset < body.length; offset += size) {
        if (req.destroyed) return;
        req.write(body.subarray(offset, offset + size));
        await sleep(trickle.pauseMs);
      }
      req.end();
    })();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
