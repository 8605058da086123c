/**
 * Inputs and helpers for the stackwalk thread tests: the corpus symbols with
 * `example-app`'s file padded to a chosen size (parsing it takes as long as a real big
 * library's), a symbol file whose read never ends, a minidump whose module list is large
 * enough to make any walker hungry, and a real node to submit them to.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, cpSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { generateSyntheticSymbols } from '../../bench/synthetic-symbols.js';
import { FsProcessedCrashStore } from '../../src/adapters/fs-processed-crash-store.js';
import { breakpadBody } from '../../src/cli/commands/submit.js';
import { loadConfig } from '../../src/config/load.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import type { ProcessedCrash } from '../../src/ports/processed-crash-store.js';
import { CORPUS } from '../support/corpus.js';
import { eventually } from '../support/mayday-process.js';

/** The module of `example-app-null.dmp`'s crashing frame (the main executable). */
export const APP = { debugFile: 'example-app', debugId: '976F2167C7F8BCF5CD91FBC5AEF299110' };
export const APP_SYM = `${APP.debugFile}/${APP.debugId}/${APP.debugFile}.sym`;
export const APP_DUMP = join(CORPUS, 'dumps/example-app-null.dmp');
/** A dump of another executable (`example-app-debug`), whose symbols stay small. */
export const OTHER_DUMP = join(CORPUS, 'dumps/example-app-debug-null.dmp');

/** Copies the corpus symbols into `dir`, without `example-app`'s unless `withApp`. */
export function copyCorpusSymbols(dir: string, options: { withApp: boolean }): void {
  const app = new RegExp(`[\\/]symbols[\\/]${APP.debugFile}([\\/]|$)`);
  cpSync(join(CORPUS, 'symbols'), dir, { recursive: true, filter: (source) => options.withApp || !app.test(source) });
}

/**
 * Writes `example-app`'s real records followed by synthetic ones (past the module's end,
 * so they change no lookup but must be read and parsed) to about `megabytes` in all.
 * Returns the file's size.
 */
export function writeBigAppSymbols(dir: string, megabytes: number): number {
  const real = readFileSync(join(CORPUS, 'symbols', APP_SYM), 'utf8').split('\n').filter((line) => line !== '');
  const realIds = real.map((line) => /^(?:FILE|INLINE_ORIGIN) (\d+) /.exec(line)).filter((m) => m !== null).map((m) => Number(m[1]));
  const generated = generateSyntheticSymbols({ targetBytes: megabytes * 2 ** 20, headerLines: real, firstAddress: 0x1000000, firstId: Math.max(-1, ...realIds) + 1 });
  const file = join(dir, APP_SYM);
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  try {
    for (const chunk of generated.chunks) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return generated.size;
}

/**
 * Puts a named pipe where a symbol file is looked for: a read of it waits, like a read
 * from a symbol store that stopped answering (a hung network mount), until `release()`
 * ends it and removes the pipe. Whoever waits on it never checks a deadline.
 */
export function hangingSymbolFile(dir: string, relativePath: string): { release(): void } {
  const file = join(dir, relativePath);
  mkdirSync(dirname(file), { recursive: true });
  execFileSync('mkfifo', [file]);
  return {
    release() {
      // Opening the write end lets the waiting open return; closing it gives the reader
      // an end of file. With no reader waiting, the open fails (ENXIO) and there is nothing to free.
      try {
        closeSync(openSync(file, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
      }
      rmSync(file, { force: true });
    },
  };
}

/**
 * An AMD64 Linux minidump with `count` modules that all share one long name: about 108
 * bytes per module on disk, far more once read (each module becomes an object and a
 * line of `json_dump`).
 */
export function manyModulesDump(count: number, nameLength = 2000): Buffer {
  const header = 32;
  const directory = 2 * 12;
  const systemInfoRva = header + directory;
  const systemInfoSize = 56;
  const nameRva = systemInfoRva + systemInfoSize;
  const nameBytes = 4 + nameLength * 2 + 2;
  const listRva = nameRva + ((nameBytes + 3) & ~3);
  const listSize = 4 + count * 108;
  const dump = Buffer.alloc(listRva + listSize);
  dump.writeUInt32LE(0x504d444d, 0); // MDMP
  dump.writeUInt32LE(0xa793, 4);
  dump.writeUInt32LE(2, 8); // streams
  dump.writeUInt32LE(header, 12); // directory
  dump.writeUInt32LE(7, header); // SystemInfoStream
  dump.writeUInt32LE(systemInfoSize, header + 4);
  dump.writeUInt32LE(systemInfoRva, header + 8);
  dump.writeUInt32LE(4, header + 12); // ModuleListStream
  dump.writeUInt32LE(listSize, header + 16);
  dump.writeUInt32LE(listRva, header + 20);
  dump.writeUInt16LE(9, systemInfoRva); // AMD64
  dump.writeUInt32LE(0x8201, systemInfoRva + 24); // Linux
  dump.writeUInt32LE(nameLength * 2, nameRva);
  dump.fill('m\0', nameRva + 4, nameRva + 4 + nameLength * 2, 'latin1');
  dump.writeUInt32LE(count, listRva);
  for (let i = 0; i < count; i++) {
    const at = listRva + 4 + i * 108;
    dump.writeBigUInt64LE(BigInt(0x10000000 + i * 0x10000), at); // base
    dump.writeUInt32LE(0x1000, at + 8); // size
    dump.writeUInt32LE(nameRva, at + 20);
  }
  return dump;
}

/** A node for the processor tests: loopback, port 0, silent, roles and options as given. */
export async function startTestNode(dataDir: string, overrides: Record<string, string>): Promise<RunningNode> {
  const { config, findings } = loadConfig({ env: {}, overrides: { 'node.data_dir': dataDir, 'web.port': '0', 'web.host': '127.0.0.1', 'processor.poll_interval': '50ms', ...overrides } });
  if (!config) throw new Error(JSON.stringify(findings));
  return startNode(config, { cwd: dataDir, log: pino({ level: 'silent' }) });
}

/** Submits a dump as a Breakpad client does; the crash id. */
export async function submit(node: RunningNode, dump: Buffer): Promise<string> {
  const body = breakpadBody(dump, 'crash.dmp', [['ProductName', 'Example'], ['Version', '1.0']], false);
  const response = await fetch(`${node.url}/submit`, { method: 'POST', headers: { 'content-type': body.contentType }, body: body.body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`submit: ${response.status} ${text}`);
  return /^CrashID=bp-(.+)$/m.exec(text)![1];
}

/** The processed crash, once saved. */
export async function processedCrash(node: RunningNode, crashId: string, timeoutMs = 15_000): Promise<ProcessedCrash> {
  const store = await FsProcessedCrashStore.open(node.paths.processed);
  return eventually(() => store.get(crashId), timeoutMs, `processed crash ${crashId}`);
}

/**
 * Asks `/__lbheartbeat__` again and again (a new request 20 ms after the last answer)
 * from the moment it resolves until `stop()`, which gives the slowest answer in ms. The
 * client runs in a thread of its own: on the node's thread it could not send while the
 * node is blocked, and would miss exactly the stalls it is there to see.
 */
export async function watchHeartbeat(node: RunningNode): Promise<{ stop(): Promise<{ slowestMs: number; answers: number }> }> {
  const client = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     let stop = false, slowestMs = 0, answers = 0;
     parentPort.once('message', () => (stop = true));
     (async () => {
       // The first fetch of a thread loads the HTTP client: not the node's time.
       await (await fetch(workerData.url)).arrayBuffer();
       parentPort.postMessage('ready');
       while (!stop) {
         const started = performance.now();
         const response = await fetch(workerData.url);
         await response.arrayBuffer();
         if (response.status !== 200) throw new Error('heartbeat: ' + response.status);
         slowestMs = Math.max(slowestMs, performance.now() - started);
         answers++;
         await new Promise((resolve) => setTimeout(resolve, 20));
       }
       parentPort.postMessage({ slowestMs, answers });
     })();`,
    { eval: true, workerData: { url: `${node.url}/__lbheartbeat__` } },
  );
  const messages: unknown[] = [];
  let notify: (() => void) | undefined;
  client.on('message', (message: unknown) => {
    messages.push(message);
    notify?.();
  });
  const failed = new Promise<never>((_, reject) => client.once('error', reject));
  failed.catch(() => undefined);
  const next = async (): Promise<unknown> => {
    while (messages.length === 0) await Promise.race([new Promise<void>((resolve) => (notify = resolve)), failed]);
    return messages.shift();
  };
  await next(); // ready
  return {
    async stop() {
      client.postMessage('stop');
      try {
        return (await next()) as { slowestMs: number; answers: number };
      } finally {
        await client.terminate();
      }
    },
  };
}
