/**
 * Hard per-crash limits on a real node: a crash whose walk goes over the time limit (and
 * its grace) or the worker memory limit is saved as failed with a note naming the limit,
 * acknowledged rather than retried, and the node goes on serving and processing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node/node.js';
import { APP_DUMP, APP_SYM, OTHER_DUMP, copyCorpusSymbols, hangingSymbolFile, processedCrash, startTestNode, submit, watchHeartbeat, writeBigAppSymbols } from './stackwalk-fixtures.js';

let dir: string;
let node: RunningNode;
let hanging: { release(): void } | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-processor-limits-'));
  copyCorpusSymbols(join(dir, 'symbols'), { withApp: false });
  // The first test's walk waits on this read for good; the second replaces it.
  hanging = hangingSymbolFile(join(dir, 'symbols'), APP_SYM);
  node = await startTestNode(dir, {
    'node.roles': 'collector, processor',
    'processor.workers': '1',
    // The hard limit is 1 s more (the grace's minimum).
    'processor.time_limit': '2s',
    'processor.worker_memory_limit': '64MB',
  });
});
afterAll(async () => {
  hanging?.release();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

function waitingInQueue(): number {
  const db = new Database(join(dir, 'queue.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM queue_items').pluck().get() as number;
  } finally {
    db.close();
  }
}

/** The next crash goes through as if nothing happened. */
async function expectNextCrashProcessed(): Promise<void> {
  const crash = await processedCrash(node, await submit(node, readFileSync(OTHER_DUMP)));
  expect(crash.success, String(crash.processor_notes)).toBe(true);
  expect(crash.signature).toBeTruthy();
}

/** Failures, retries and dead letters since `before`. */
function countsSince(before: { failed: number; retried: number; deadLettered: number }) {
  const now = node.worker!.counts;
  return { failed: now.failed - before.failed, retried: now.retried - before.retried, deadLettered: now.deadLettered - before.deadLettered };
}

describe('processor hard limits', () => {
  it('ends a walk still running past the time limit and its grace, saves the crash as failed with a note, and goes on', async () => {
    // The thread is up and has the small symbols (the first crash may find it starting).
    await processedCrash(node, await submit(node, readFileSync(OTHER_DUMP)));
    const before = { ...node.worker!.counts };
    const heartbeat = await watchHeartbeat(node);
    const started = performance.now();
    // The app's symbols are a read that never ends, like a symbol store that stopped
    // answering: the walker waits on it and never reaches its own deadline checks.
    const id = await submit(node, readFileSync(APP_DUMP));
    const crash = await processedCrash(node, id);
    const tookMs = performance.now() - started;
    const { slowestMs } = await heartbeat.stop();
    expect(crash.success).toBe(false);
    expect(crash.processor_notes).toMatch(/stackwalk stopped: still running 1000 ms after the time limit \(processor\.time_limit\); its worker thread was ended/);
    // Ended at the hard limit (3 s), with room for a loaded machine.
    expect(tookMs).toBeLessThan(6000);
    expect(slowestMs).toBeLessThan(250);
    // Acknowledged, not retried: nothing left in the queue, nothing counted as a retry.
    expect(waitingInQueue()).toBe(0);
    expect(countsSince(before)).toEqual({ failed: 1, retried: 0, deadLettered: 0 });
    await expectNextCrashProcessed();
  });

  it('refuses a walk that needs a symbol file too big for the worker memory limit, saves the crash as failed with a note, and goes on', async () => {
    hanging?.release();
    hanging = undefined;
    // 40 MB: more than half of the 64 MB limit. The thread that read the pipe was ended, so
    // no cache remembers it.
    writeBigAppSymbols(join(dir, 'symbols'), 40);
    const before = { ...node.worker!.counts };
    const crash = await processedCrash(node, await submit(node, readFileSync(APP_DUMP)));
    expect(crash.success).toBe(false);
    expect(crash.processor_notes).toMatch(/stackwalk stopped: the symbols of example-app \(\d+\.\d MB\) need more than processor\.worker_memory_limit \(64 MB\) to parse/);
    expect(waitingInQueue()).toBe(0);
    expect(countsSince(before)).toEqual({ failed: 1, retried: 0, deadLettered: 0 });
    const metrics = await node.metrics.metrics();
    expect(metrics).toMatch(/mayday_processor_limits_exceeded_total\{limit="time"\} 1/);
    expect(metrics).toMatch(/mayday_processor_limits_exceeded_total\{limit="memory"\} 1/);
    await expectNextCrashProcessed();
  });
});
