import type { RawCrash } from '../../ports/raw-crash-store.js';

/**
 * A processing rule, Socorro style: one small unit per concern. `applies` decides, `act`
 * reads the raw crash, dumps and the processed crash so far, writes fields and adds
 * notes. A rule that throws is noted in `processor_notes` and the others still run.
 */
export interface ProcessingContext {
  crashId: string;
  raw: RawCrash;
  /** The raw crash's annotations, cleaned by the first rules (the stored raw crash is never changed). */
  annotations: Record<string, string>;
  /** Dump name -> bytes. */
  dumps: ReadonlyMap<string, Uint8Array>;
  /** The processed crash being built; for rulesets that refine a crash, a copy of the previous version. */
  processed: Record<string, unknown>;
  notes: string[];
  startedAt: Date;
  /** `performance.now()` time after which long rules should stop (the per-crash time limit). */
  deadline?: number;
  /** Set when a rule was stopped by a hard limit (`CrashLimitError`). */
  limitExceeded?: 'time' | 'memory';
}

export interface Rule {
  readonly name: string;
  applies?(context: ProcessingContext): boolean;
  act(context: ProcessingContext): void | Promise<void>;
}

/**
 * Turns minidump bytes into the stackwalker document (`json_dump`, the shape of
 * rust-minidump's `minidump-stackwalk --json`). The in-process engine is one; an external
 * command would be another.
 */
export type Stackwalker = (dump: Uint8Array, options?: { deadline?: number }) => Promise<StackwalkResult>;

/**
 * A hard per-crash limit was hit: the work was stopped from outside (its worker thread
 * ended) rather than finishing. The crash is saved as failed, with this message as a
 * note, and acknowledged: trying again would hit the same limit.
 */
export class CrashLimitError extends Error {
  constructor(
    readonly limit: 'time' | 'memory',
    message: string,
  ) {
    super(message);
    this.name = 'CrashLimitError';
  }
}

export interface StackwalkResult {
  jsonDump: Record<string, unknown>;
  /** Problems met while reading or walking (a damaged dump still yields a document). */
  errors: string[];
}

export interface RuleTiming {
  rule: string;
  seconds: number;
  failed: boolean;
}

/** Runs the rules in order; returns how long each took (for metrics) and whether any threw. */
export async function runRules(rules: readonly Rule[], context: ProcessingContext): Promise<RuleTiming[]> {
  const timings: RuleTiming[] = [];
  for (const rule of rules) {
    const started = performance.now();
    let failed = false;
    try {
      if (rule.applies && !rule.applies(context)) continue;
      await rule.act(context);
    } catch (error) {
      failed = true;
      if (error instanceof CrashLimitError) context.limitExceeded ??= error.limit;
      context.notes.push(`rule ${rule.name} failed: ${(error as Error).message}`);
    }
    timings.push({ rule: rule.name, seconds: (performance.now() - started) / 1000, failed });
  }
  return timings;
}
