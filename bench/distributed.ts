/**
 * `npm run bench:distributed` (tsx bench/distributed.ts [--seconds N] [--no-write])
 *
 * The distributed deployment of examples/distributed/ (each node `mayday run --config FILE`
 * in its own process) on PostgreSQL (a fresh schema), RabbitMQ (a random queue prefix) and an
 * s3rver started here, against the all-in-one embedded node (`mayday start`: SQLite and
 * files, one process) in the same run. Each configuration gets the same load: corpus crashes
 * (Breakpad bodies) sent over HTTP to the collector by concurrent clients for --seconds,
 * while a poller asks the web node's Super Search, by uuid in batches, which of the accepted
 * crashes it finds. Reported per configuration: crashes/s accepted and processed (found),
 * submission-to-searchable p50 and p95 (from the CrashID answer to the crash being found),
 * and each as a ratio to the embedded node of the same run (the machine is shared and
 * noisy: read the ratios). The distributed deployment runs first with one processor process,
 * then with the second one started. Writes the `## Distributed` section of
 * docs/benchmarks.md unless --no-write.
 *
 * Flow control: a client waits while BACKLOG crashes are accepted and not yet found. Without
 * it the collector (hundreds of crashes/s) outruns the processors, the queue grows for the
 * whole run, and submission-to-searchable measures how long the run lasted; with it, the
 * clients settle at the rate the whole pipeline sustains, and latencies are those of a queue
 * at most BACKLOG deep, the same for every configuration.
 *
 * Also reported: the CPU time each process spent per processed crash, which the other work
 * on a shared machine disturbs less than the rates.
 *
 * PostgreSQL and RabbitMQ are found as the tests find them (MAYDAY_TEST_POSTGRES_URL,
 * MAYDAY_TEST_RABBITMQ_URL, else the default local addresses). BENCH_NOTE describes the other
 * work on the machine in the written section; BENCH_NODE_ARGS passes Node flags to the nodes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { breakpadBody, postOnce, type SubmitBody } from '../src/cli/commands/submit.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from '../test/adapters/pg-support.js';
import { CORPUS } from '../test/support/corpus.js';
import { MAYDAY_BIN, PROJECT_ROOT, runMayday } from '../test/support/mayday-process.js';
import { deleteQueues, rabbitSkip, rabbitUrl } from '../test/support/rabbitmq.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const SECONDS = Number(option('--seconds', '60'));
const WRITE = !args.includes('--no-write');
if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error('--seconds expects a positive number');
// Enough that the clients are not the limit: at 8 the embedded node was waiting for them.
const CLIENTS = 32;
const BACKLOG = 64;
const POLL_MS = 100;
/** Uuids per Super Search request: a short URL, and one indexed lookup each. */
const BATCH = 50;
const DRAIN_MS = 120_000;
/** Extra Node flags for the nodes, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where their time goes. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

process.chdir(PROJECT_ROOT);

// ---- Everything started is registered here and undone in reverse, whatever happens. ----

const cleanups: { what: string; undo: () => Promise<void> | void }[] = [];
let cleaning: Promise<void> | undefined;
/** A step that hangs must not keep the later ones (the schema, the directories) from running. */
const CLEANUP_STEP_MS = 30_000;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    for (const { what, undo } of cleanups.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(undo),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no end after ${CLEANUP_STEP_MS / 1000} s`)), CLEANUP_STEP_MS))),
        ]);
      } catch (error) {
        process.stderr.write(`cleanup: ${what}: ${(error as Error).message}\n`);
      } finally {
        clearTimeout(timer);
      }
    }
  })());
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanup().then(() => process.exit(130));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Node {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A process whose CPU time is counted, by the column it is reported in. */
interface Proc {
  column: Column;
  pid: number;
}
const COLUMNS = ['embedded node (all roles)', 'collector', 'processors', 'web', 'scheduler', 's3rver', 'load generator and poller'] as const;
type Column = (typeof COLUMNS)[number];

/** User + system CPU time of a process, every thread, in ms (Linux; USER_HZ = 100). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** This process's children whose command line contains `text`. */
function childrenMatching(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found;
}

function cpuSnapshot(procs: readonly Proc[]): Map<Column, number> {
  const totals = new Map<Column, number>();
  for (const { column, pid } of procs) totals.set(column, (totals.get(column) ?? 0) + cpuMs(pid));
  const self = process.cpuUsage();
  totals.set('load generator and poller', (self.user + self.system) / 1000);
  return totals;
}

/**
 * Starts `mayday ARGS` on a port chosen here and waits for its /__lbheartbeat__. (Not
 * test/support's startMayday, which reads the URL from info-level logs: the nodes log at
 * warn here, so that logging costs the measured processes nothing.)
 */
async function startNode(name: string, argv: string[], env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  // The services' MAYDAY_TEST_* variables are not node options: a node would warn about each.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MAYDAY_TEST_')));
  const child = spawn(process.execPath, [...NODE_ARGS, MAYDAY_BIN, ...argv], { cwd: PROJECT_ROOT, env: { ...inherited, ...env, MAYDAY_WEB_PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    })());
  cleanups.push({ what: `stop ${name}`, undo: stop });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${stderr}`);
    const ok = await fetch(`${url}/__lbheartbeat__`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${name} did not answer within 30 s:\n${stderr}`);
    await sleep(100);
  }
  return { name, url, child, stop };
}

/**
 * s3rver in a child process, with both buckets. Not test/adapters' helper: after a Ctrl-C,
 * which the whole process group gets, its stop waits for an exit that has already happened.
 * `--openssl-legacy-provider`: s3rver encrypts ListObjectsV2 continuation tokens with DES
 * (the scheduler's verify-processed job pages through the raw crashes).
 */
async function startS3rver(buckets: string[]): Promise<{ endpoint: string; pid: number }> {
  const directory = mkdtempSync(join(tmpdir(), 'mayday-bench-s3rver-'));
  cleanups.push({ what: 'remove the s3rver directory', undo: () => rmSync(directory, { recursive: true, force: true }) });
  const options = { address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) };
  const script = `new (require('s3rver'))(${JSON.stringify(options)}).run().then(({ port }) => process.stdout.write(port + '\\n'));`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanups.push({
    what: 'stop s3rver',
    undo: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    void exited.then(() => reject(new Error(`s3rver exited (${child.exitCode ?? child.signalCode}) before listening`)));
  });
  return { endpoint: `http://127.0.0.1:${port}`, pid: child.pid! };
}

// ---- The load and the poller ----

function corpusBodies(): SubmitBody[] {
  const dir = join(CORPUS, 'dumps');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.dmp'))
    .sort()
    .map((f) => breakpadBody(readFileSync(join(dir, f)), f, [['ProductName', 'Bench'], ['Version', '1.0']], false));
}
const BODIES = corpusBodies();

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Measured {
  seconds: number;
  accepted: number;
  /** Crashes found searchable within the load's window. */
  processed: number;
  failures: number;
  failureSamples: string[];
  /** Submission-to-searchable, ms, of every crash accepted in the window. */
  p50: number;
  p95: number;
  /** The collector's answer time, ms. */
  submitP50: number;
  loadBefore: number[];
  loadAfter: number[];
  /** CPU ms per crash processed in the window, by process. */
  cpuPerCrash: Map<Column, number>;
}

/**
 * Sends crashes for `seconds` (or `count` crashes, for a warm-up) and finds each through
 * `web`'s Super Search; resolves once every accepted crash has been found.
 */
async function load(collector: string, web: string, procs: readonly Proc[], limit: { seconds: number } | { count: number }): Promise<Measured> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const submitUrl = new URL(`${collector}/submit`);
  const pending = new Map<string, number>();
  const latencies: number[] = [];
  const submitLatencies: number[] = [];
  const failureSamples = new Set<string>();
  let accepted = 0;
  let failures = 0;
  let sent = 0;
  let processedInWindow = 0;
  // Clients waiting for the backlog to shrink; the poller wakes them all after each round.
  const waiting: (() => void)[] = [];
  const progress = (): void => {
    for (const wake of waiting.splice(0)) wake();
  };
  const loadBefore = loadavg();
  const cpuBefore = cpuSnapshot(procs);
  const started = performance.now();
  const windowEnd = 'seconds' in limit ? started + limit.seconds * 1000 : Infinity;
  const more = (): boolean => ('seconds' in limit ? performance.now() < windowEnd : sent < limit.count);
  let clientsDone = false;

  const client = async (): Promise<void> => {
    while (more()) {
      while (pending.size >= BACKLOG) await new Promise<void>((resolve) => waiting.push(resolve));
      if (!more()) break;
      const body = BODIES[sent++ % BODIES.length];
      try {
        const result = await postOnce(submitUrl, body, agent);
        const match = /^CrashID=bp-([0-9a-f-]{36})/.exec(result.text);
        if (result.status === 200 && match) {
          // A crash answered after the window closed is still waited for, not counted.
          pending.set(match[1], performance.now());
          if (performance.now() <= windowEnd) accepted++;
          submitLatencies.push(result.latencyMs);
        } else {
          failures++;
          if (failureSamples.size < 5) failureSamples.add(`${result.status} ${result.text.split('\n')[0]}`);
        }
      } catch (error) {
        failures++;
        if (failureSamples.size < 5) failureSamples.add((error as Error).message);
      }
    }
  };

  const poller = async (): Promise<void> => {
    let lastFound = performance.now();
    while (!clientsDone || pending.size > 0) {
      const round = performance.now();
      // Oldest first (a Map keeps insertion order); a full backlog is two requests.
      const ids = [...pending.keys()].slice(0, 2 * BATCH);
      for (let i = 0; i < ids.length; i += BATCH) {
        const batch = ids.slice(i, i + BATCH);
        const query = batch.map((id) => `uuid=${id}`).join('&');
        const response = await fetch(`${web}/api/SuperSearch/?${query}&_columns=uuid&_results_number=${BATCH}`);
        if (!response.ok) throw new Error(`Super Search answered ${response.status}: ${await response.text()}`);
        const { hits } = (await response.json()) as { hits: { uuid: string }[] };
        const now = performance.now();
        for (const { uuid } of hits) {
          const acceptedAt = pending.get(uuid);
          if (acceptedAt === undefined) continue;
          pending.delete(uuid);
          latencies.push(now - acceptedAt);
          if (now <= windowEnd) processedInWindow++;
          lastFound = now;
        }
      }
      progress();
      if (clientsDone && pending.size > 0 && performance.now() - lastFound > DRAIN_MS) throw new Error(`${pending.size} accepted crashes not found within ${DRAIN_MS / 1000} s`);
      await sleep(Math.max(0, POLL_MS - (performance.now() - round)));
    }
  };

  // Taken when the window closes: what the clients still have in flight then is not counted.
  let atWindowEnd: { load: number[]; cpu: Map<Column, number> } | undefined;
  const windowTimer = Number.isFinite(windowEnd) ? setTimeout(() => (atWindowEnd = { load: loadavg(), cpu: cpuSnapshot(procs) }), windowEnd - performance.now()) : undefined;
  const polling = poller();
  const clients = Promise.all(Array.from({ length: CLIENTS }, client)).finally(() => {
    clientsDone = true;
  });
  // A failing poller ends the measurement at once (clients may be waiting for it forever).
  await Promise.race([clients, polling]);
  await clients;
  const seconds = 'seconds' in limit ? limit.seconds : (performance.now() - started) / 1000;
  clearTimeout(windowTimer);
  const { load: loadAfter, cpu: cpuAfter } = atWindowEnd ?? { load: loadavg(), cpu: cpuSnapshot(procs) };
  await polling;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  submitLatencies.sort((a, b) => a - b);
  const processed = 'seconds' in limit ? processedInWindow : latencies.length;
  const cpuPerCrash = new Map([...cpuAfter].map(([column, ms]) => [column, (ms - (cpuBefore.get(column) ?? 0)) / processed]));
  return {
    seconds,
    accepted: 'seconds' in limit ? accepted : latencies.length,
    processed,
    failures,
    failureSamples: [...failureSamples],
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    submitP50: percentile(submitLatencies, 50),
    loadBefore,
    loadAfter,
    cpuPerCrash,
  };
}

/** Every corpus dump a few times, found: symbols parsed and connections open before measuring. */
async function warmUp(collector: string, web: string, rounds: number): Promise<void> {
  const warm = await load(collector, web, [], { count: BODIES.length * rounds });
  if (warm.failures > 0) throw new Error(`warm-up: ${warm.failures} submissions failed: ${warm.failureSamples.join('; ')}`);
}

// ---- The two deployments ----

async function embedded(): Promise<{ collector: string; web: string; procs: Proc[]; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mayday-bench-embedded-'));
  cleanups.push({ what: 'remove the embedded data directory', undo: () => rmSync(dataDir, { recursive: true, force: true }) });
  cpSync(join(CORPUS, 'symbols'), join(dataDir, 'symbols'), { recursive: true });
  const config = join(dataDir, 'bench.ini');
  writeFileSync(config, '[log]\nlevel = warn\n[web]\napi_rate_limit = 0\n');
  const node = await startNode('embedded', ['start', '--data-dir', dataDir, '--config', config], {});
  return { collector: node.url, web: node.url, procs: [{ column: 'embedded node (all roles)', pid: node.child.pid! }], stop: node.stop };
}

interface Distributed {
  collector: string;
  web: string;
  procs: Proc[];
  addProcessor(): Promise<void>;
  stop(): Promise<void>;
}

async function distributed(): Promise<Distributed> {
  const root = mkdtempSync(join(tmpdir(), 'mayday-bench-distributed-'));
  cleanups.push({ what: 'remove the distributed data directories', undo: () => rmSync(root, { recursive: true, force: true }) });
  // In a process of its own: in this one it would share an event loop with the load.
  const s3 = await startS3rver(['mayday-crashes', 'mayday-symbols']);
  const procs: Proc[] = [{ column: 's3rver', pid: s3.pid }];
  const schema = freshSchema();
  const prefix = `mayday_bench_${randomBytes(4).toString('hex')}.`;
  // Registered before anything creates them: a failed start leaves nothing either.
  cleanups.push({ what: `drop schema ${schema}`, undo: () => dropSchema(schema) });
  cleanups.push({ what: `delete queues ${prefix}*`, undo: () => deleteQueues(prefix) });
  const env = (node: string): Record<string, string> => ({
    MAYDAY_NODE_DATA_DIR: join(root, node),
    MAYDAY_DATABASE_URL: pgUrl,
    MAYDAY_DATABASE_SCHEMA: schema,
    MAYDAY_QUEUE_URL: rabbitUrl,
    MAYDAY_QUEUE_PREFIX: prefix,
    MAYDAY_STORAGE_S3_ENDPOINT: s3.endpoint,
    // s3rver's fixed credentials.
    MAYDAY_STORAGE_S3_ACCESS_KEY_ID: 'S3RVER',
    MAYDAY_STORAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
    MAYDAY_SYMBOLS_S3_ENDPOINT: s3.endpoint,
    // s3rver's fixed credentials.
    MAYDAY_SYMBOLS_S3_ACCESS_KEY_ID: 'S3RVER',
    MAYDAY_SYMBOLS_S3_SECRET_ACCESS_KEY: 'S3RVER',
    MAYDAY_LOG_LEVEL: 'warn',
    // The poller asks the web node several times a second, which is not a person browsing.
    MAYDAY_WEB_API_RATE_LIMIT: '0',
  });
  const config = (file: string): string => `examples/distributed/${file}.ini`;
  const started: Node[] = [];
  const start = async (file: string): Promise<Node> => {
    const node = await startNode(file, ['run', '--config', config(file)], env(file));
    started.push(node);
    procs.push({ column: file.startsWith('processor') ? 'processors' : (file as Column), pid: node.child.pid! });
    return node;
  };
  // The web node first: it creates the tables the others then find.
  const web = await start('web');
  const [collector] = await Promise.all([start('collector'), start('scheduler'), start('processor-1')]);
  const token = await runMayday(['tokens', 'create', '--user', 'ci', '--permissions', 'upload_symbols', '--config', config('web')], env('web'));
  if (token.code !== 0) throw new Error(`tokens create: ${token.stderr}`);
  const upload = await runMayday(['symbols', 'upload', join(CORPUS, 'symbols'), '--url', web.url, '--token', token.stdout.trim()], env('web'));
  if (upload.code !== 0) throw new Error(`symbols upload: ${upload.stderr}`);
  return {
    collector: collector.url,
    web: web.url,
    procs,
    addProcessor: async () => {
      await start('processor-2');
    },
    stop: async () => {
      for (const node of started.reverse()) await node.stop();
    },
  };
}

// ---- Run, report ----

interface Row {
  name: string;
  m: Measured;
}

function table(rows: Row[]): string {
  const reference = rows[0].m;
  const ratio = (value: number, of: number): string => `${(value / of).toFixed(2)}x`;
  const lines = [
    '| configuration | accepted/s | processed/s | processed vs embedded | submission to searchable p50 | p95 | p95 vs embedded | collector answer p50 | failures | load average (1 min) before, after |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const { name, m } of rows) {
    lines.push(
      `| ${name} | ${(m.accepted / m.seconds).toFixed(1)} | ${(m.processed / m.seconds).toFixed(1)} | ${ratio(m.processed, reference.processed)} | ${(m.p50 / 1000).toFixed(2)} s | ${(m.p95 / 1000).toFixed(2)} s | ${ratio(m.p95, reference.p95)} | ${m.submitP50.toFixed(0)} ms | ${m.failures} | ${m.loadBefore[0].toFixed(2)}, ${m.loadAfter[0].toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

function cpuTable(rows: Row[]): string {
  const lines = [`| configuration | ${COLUMNS.join(' | ')} | total |`, `|---|${COLUMNS.map(() => '---:').join('|')}|---:|`];
  for (const { name, m } of rows) {
    const cells = COLUMNS.map((c) => (m.cpuPerCrash.has(c) ? m.cpuPerCrash.get(c)!.toFixed(1) : ''));
    lines.push(`| ${name} | ${cells.join(' | ')} | ${cpuTotal({ name, m }).toFixed(1)} |`);
  }
  return lines.join('\n');
}

/** What the second processor's figure says, on a machine where CPU is the limit. */
function secondProcessor(ratio: number): string {
  if (ratio < 1) return ': a second processor process only adds a contender for it';
  if (ratio < 1.3) return ', and a second processor process has little to add';
  return '';
}

function cpuTotal(row: Row): number {
  return [...row.m.cpuPerCrash.values()].reduce((sum, ms) => sum + ms, 0);
}

function section(rows: Row[], when: Date): string {
  const [embeddedRow, one, two] = rows;
  const perSecond = (r: Row): number => r.m.processed / r.m.seconds;
  const cpu = cpus();
  return [
    '## Distributed',
    '',
    '`npm run bench:distributed` (`tsx bench/distributed.ts [--seconds N] [--no-write]`; run `npm run',
    'build` first: the nodes run `dist/`). The deployment of `examples/distributed/` (each node',
    '`mayday run --config FILE` in its own process: a collector, a web node, a scheduler, and one',
    'then two processors) on PostgreSQL (a fresh schema), RabbitMQ (a random queue prefix) and an',
    's3rver in a process of its own, all on this machine, against the all-in-one embedded node',
    '(`mayday start`: SQLite and files, one process) in the same run. Each configuration gets the',
    'same load after a warm-up (the corpus dumps submitted and found once, three times more when',
    'the second processor joins, so that the symbols are parsed): the corpus crashes',
    `(Breakpad bodies, 40-65 KB) sent by ${CLIENTS} concurrent clients to the collector for ${SECONDS} s,`,
    `while a poller asks the web node's Super Search every ${POLL_MS} ms, by uuid in batches of ${BATCH},`,
    'which accepted crashes it finds. *Accepted/s*: CrashIDs answered in the window; *processed/s*:',
    'crashes found in the window; *submission to searchable*: from the CrashID answer to the poll',
    `that found the crash (so up to ${POLL_MS} ms late). A client waits while ${BACKLOG} crashes are accepted`,
    'and not yet found: without it the collector outruns the processors, the queue grows for the',
    'whole run and the latency measures the length of the run; with it the clients settle at the',
    'rate the whole pipeline sustains, and latencies are those of a queue at most',
    `${BACKLOG} deep, the same for every configuration (so a faster pipeline also shows a lower latency).`,
    '',
    `Run of ${when.toISOString().slice(0, 10)}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? '?'}), Node ${process.version}; the load`,
    'generator, the nodes, PostgreSQL, RabbitMQ and s3rver all share those CPUs, with other work',
    `on the machine (${process.env.BENCH_NOTE ?? 'a fuzzer on one core'}; the load averages are in the table). Read the`,
    'ratios to the embedded node of the same run rather than the absolute figures.',
    '',
    table(rows),
    '',
    'CPU time (user and system, every thread) per crash processed in the window, in ms, by process:',
    'what each part costs, which the other work on the machine disturbs less than the rates.',
    'PostgreSQL and RabbitMQ are not counted: their servers are shared with other work.',
    '',
    cpuTable(rows),
    '',
    `Two processor processes processed ${(perSecond(two) / perSecond(one)).toFixed(2)}x what one did, and the distributed`,
    `deployment with two ${(perSecond(two) / perSecond(embeddedRow)).toFixed(2)}x what the embedded node did. A crash cost`,
    `${cpuTotal(two).toFixed(0)} ms of CPU in the distributed deployment (s3rver ${(two.m.cpuPerCrash.get('s3rver') ?? NaN).toFixed(0)} ms of it), against`,
    `${cpuTotal(embeddedRow).toFixed(0)} ms in the embedded node, PostgreSQL and RabbitMQ not counted: each role talks HTTP to S3`,
    'for every object of a crash (raw crash, dump, processed crash) and to PostgreSQL and RabbitMQ,',
    'where the embedded node writes files and SQLite in one process. Here every process shares the',
    `same ${cpu.length} cores, so CPU is the limit${secondProcessor(perSecond(two) / perSecond(one))}. The distributed`,
    'figures are a floor for a deployment that gives the services and the roles machines of their own.',
    '',
  ].join('\n');
}

function writeSection(text: string): void {
  const file = join(PROJECT_ROOT, 'docs/benchmarks.md');
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = doc.search(/^## Distributed\s*$/m);
  let next: string;
  if (start < 0) next = `${doc.replace(/\n*$/, '\n\n')}${text}`;
  else {
    const after = doc.slice(start + 1).search(/^## /m);
    const end = after < 0 ? doc.length : start + 1 + after;
    next = `${doc.slice(0, start)}${text}${after < 0 ? '' : '\n'}${doc.slice(end)}`;
  }
  writeFileSync(file, next.replace(/\n*$/, '\n'));
}

async function main(): Promise<void> {
  const skip = pgSkip || rabbitSkip;
  if (skip) throw new Error(`bench:distributed needs PostgreSQL and RabbitMQ: ${skip}`);
  if (!existsSync(join(PROJECT_ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: the nodes run dist/');
  const when = new Date();
  const rows: Row[] = [];
  const say = (text: string): void => void process.stderr.write(`${text}\n`);

  say('embedded: starting');
  const one = await embedded();
  await warmUp(one.collector, one.web, 1);
  say(`embedded: ${SECONDS} s of load`);
  rows.push({ name: 'embedded: `mayday start`, one process (reference)', m: await load(one.collector, one.web, one.procs, { seconds: SECONDS }) });
  await one.stop();

  say('distributed: starting (PostgreSQL, RabbitMQ, s3rver; web, collector, scheduler, processor-1)');
  const dist = await distributed();
  await warmUp(dist.collector, dist.web, 1);
  say(`distributed, one processor: ${SECONDS} s of load`);
  rows.push({ name: 'distributed, 1 processor process', m: await load(dist.collector, dist.web, dist.procs, { seconds: SECONDS }) });
  await dist.addProcessor();
  // Enough crashes that the new processor, taking about half, has seen every dump.
  await warmUp(dist.collector, dist.web, 3);
  say(`distributed, two processors: ${SECONDS} s of load`);
  rows.push({ name: 'distributed, 2 processor processes', m: await load(dist.collector, dist.web, dist.procs, { seconds: SECONDS }) });
  await dist.stop();

  for (const { name, m } of rows) if (m.failures > 0) say(`${name}: ${m.failures} failed submissions: ${m.failureSamples.join('; ')}`);
  const text = section(rows, when);
  process.stdout.write(`${text}\n`);
  if (WRITE) {
    writeSection(text);
    say('wrote the Distributed section of docs/benchmarks.md');
  }
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  process.stderr.write(`bench:distributed failed: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await cleanup();
}
// amqplib or pg may keep a socket open briefly after the cleanup; the run is over.
process.exit(process.exitCode ?? 0);
