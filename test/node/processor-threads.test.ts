/**
 * The processor walks crashes in worker threads, on a real node over real HTTP: the node
 * answers its health check while a thread parses a big symbol file, and a symbol upload
 * reaches the cache of every thread.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import type { RunningNode } from '../../src/node/node.js';
import { CORPUS } from '../support/corpus.js';
import { makeZip } from '../symbols/support.js';
import { APP, APP_DUMP, APP_SYM, copyCorpusSymbols, processedCrash, watchHeartbeat, startTestNode, submit, writeBigAppSymbols } from './stackwalk-fixtures.js';

const dirs: string[] = [];
const nodes: RunningNode[] = [];
afterAll(async () => {
  for (const node of nodes) await node.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(symbolsWithApp: 'big' | 'none', overrides: Record<string, string>): Promise<RunningNode> {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-processor-threads-'));
  dirs.push(dir);
  copyCorpusSymbols(join(dir, 'symbols'), { withApp: false });
  if (symbolsWithApp === 'big') writeBigAppSymbols(join(dir, 'symbols'), 64);
  const node = await startTestNode(dir, overrides);
  nodes.push(node);
  return node;
}

interface ModuleDoc {
  debug_file?: string;
  missing_symbols?: boolean;
}
function appModule(crash: Record<string, unknown>): ModuleDoc | undefined {
  return ((crash.json_dump as { modules: ModuleDoc[] }).modules ?? []).find((m) => m.debug_file === APP.debugFile);
}

describe('processor threads', () => {
  it('answers /__lbheartbeat__ within 250 ms while a thread parses a 64 MB symbol file', async () => {
    const node = await start('big', { 'node.roles': 'collector, processor', 'processor.workers': '1' });
    const heartbeat = await watchHeartbeat(node);
    const started = performance.now();
    const crashId = await submit(node, readFileSync(APP_DUMP));
    const crash = await processedCrash(node, crashId, 30_000);
    const tookMs = performance.now() - started;
    const { slowestMs, answers } = await heartbeat.stop();
    expect(crash.success, String(crash.processor_notes)).toBe(true);
    // The big file was parsed for this crash (its tables are in the cache), which took a
    // while: long enough that a node parsing on its own thread could not have answered.
    expect(node.stackwalkPool!.stats.bytes).toBeGreaterThan(50 * 2 ** 20);
    expect(tookMs).toBeGreaterThan(500);
    expect(answers).toBeGreaterThan(5);
    expect(slowestMs).toBeLessThan(250);
  });

  it('applies a symbol upload in every thread: crashes walked on any thread get the new symbols', async () => {
    const node = await start('none', { 'node.roles': 'collector, processor, web', 'processor.workers': '2' });
    const dump = readFileSync(APP_DUMP);
    // Until both threads have walked the dump without the app's symbols (and remember the miss).
    while (node.stackwalkPool!.threadsUsed < 2) {
      const ids = await Promise.all([1, 2, 3, 4].map(() => submit(node, dump)));
      for (const id of ids) expect(appModule(await processedCrash(node, id))?.missing_symbols).toBe(true);
    }
    const tokens = SqliteTokenStore.open(join(node.paths.dataDir, 'mayday.sqlite'));
    const { token } = await tokens.create({ user: 'ci', permissions: ['upload_symbols'] });
    await tokens.close();
    const zip = makeZip([{ name: APP_SYM, data: readFileSync(join(CORPUS, 'symbols', APP_SYM)) }]);
    const upload = await fetch(`${node.url}/symbols/upload`, { method: 'POST', headers: { 'content-type': 'application/zip', 'auth-token': token }, body: zip });
    expect(upload.status, await upload.text()).toBe(200);
    // Four at once on two threads: an idle thread takes a crash routed to a busy one, so each walks one at least.
    const after = await Promise.all([1, 2, 3, 4].map(() => submit(node, dump)));
    for (const id of after) expect(appModule(await processedCrash(node, id))?.missing_symbols, id).toBe(false);
  });
});
