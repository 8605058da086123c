import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ProcessingQueue } from '../ports/queue.js';
import type { RawCrashStore } from '../ports/raw-crash-store.js';
import { receiveSubmission } from '../roles/collector/submission.js';
import { Throttler } from '../roles/collector/throttler.js';
import type { FieldCatalog } from '../schema/field-catalog.js';
import { breakpadBody } from './commands/submit.js';
import { planDemoCrashes, type PlannedCrash } from './demo-plan.js';

/** The project's own sample crashes and their symbols (fixtures/), for `mayday start --demo`. */
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** Installs the fixtures' symbols into the node's first symbols directory (nothing is overwritten). */
export function installDemoSymbols(symbolsDir: string): void {
  for (const source of [join(FIXTURES, 'corpus/symbols'), join(FIXTURES, 'inline/symbols'), join(FIXTURES, 'platforms/symbols')]) {
    if (existsSync(source)) cpSync(source, symbolsDir, { recursive: true, force: false, errorOnExist: false });
  }
}

/** Where the node's collector puts crashes (`RunningNode.intake`). */
export interface DemoIntake {
  readonly rawCrashStore: RawCrashStore;
  readonly queue: ProcessingQueue;
  readonly fields: FieldCatalog;
}

/** Generous: the samples are the project's own. */
const LIMITS = { maxRequestSize: 64 * 2 ** 20, maxAnnotations: 100, maxAnnotationSize: 64 * 2 ** 10, maxDumps: 4, bodyTimeoutMs: 60_000 };

/**
 * Sends the demo's month of crashes (`planDemoCrashes`) into the running node: each one a
 * Breakpad multipart body read by the collector's own submission code into the node's raw
 * crash store, then queued for processing, as `POST /submit` does. Only the submission
 * time differs: the planned one, in the past. That is why this goes through the intake
 * ports in-process, and not over HTTP: the public /submit route never takes a date from
 * a client. Returns how many crashes were stored.
 */
export async function loadDemoCrashes(intake: DemoIntake, now = Date.now()): Promise<number> {
  const throttler = new Throttler({ products: [], honourThrottleable: false, rules: [] });
  const dumps = new Map<string, Buffer>();
  const read = (path: string): Buffer => {
    let bytes = dumps.get(path);
    if (!bytes) dumps.set(path, (bytes = readFileSync(join(FIXTURES, path))));
    return bytes;
  };
  const planned: PlannedCrash[] = planDemoCrashes(now);
  const inline = 'inline/inline-crasher.dmp';
  if (existsSync(join(FIXTURES, inline))) {
    planned.push({ dump: { path: inline, kind: 'inline' }, submittedAt: new Date(now - 60_000), annotations: [['ProductName', 'InlineCrasher'], ['Version', '0.1']] });
  }
  let stored = 0;
  // Newest first: the pages' default ranges (the last 7 days) fill in first.
  for (const crash of [...planned].reverse()) {
    const fileName = crash.dump.path.slice(crash.dump.path.lastIndexOf('/') + 1);
    const body = breakpadBody(read(crash.dump.path), fileName, crash.annotations, false);
    const outcome = await receiveSubmission(
      { headers: body.headers, body: Readable.from([body.body]), submittedAt: crash.submittedAt },
      { store: intake.rawCrashStore, throttler, limits: LIMITS, fields: intake.fields },
    );
    if (outcome.outcome !== 'stored') continue;
    await intake.queue.enqueue(outcome.crash.uuid, 'standard');
    stored++;
  }
  return stored;
}
