import type { RawCrash } from '../../ports/raw-crash-store.js';

/**
 * A processing rule, Socorro style: one small unit per concern. `applies` decides, `act`
 * reads the raw crash, dumps and the processed crash so far, writes fields and adds
 * notes. A rule that throws is noted in `processor_notes` and the others still run.
 */
export interface ProcessingContext {
  crashId: string;
  raw: RawCrash;
  /** Dump name -> bytes. */
  dumps: ReadonlyMap<string, Uint8Array>;
  processed: Record<string, unknown>;
  notes: string[];
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
export type Stackwalker = (dump: Uint8Array) => Promise<StackwalkResult>;

export interface StackwalkResult {
  jsonDump: Record<string, unknown>;
  /** Problems met while reading or walking (a damaged dump still yields a document). */
  errors: string[];
}

export async function runRules(rules: readonly Rule[], context: ProcessingContext): Promise<void> {
  for (const rule of rules) {
    try {
      if (rule.applies && !rule.applies(context)) continue;
      await rule.act(context);
    } catch (error) {
      context.notes.push(`rule ${rule.name} failed: ${(error as Error).message}`);
    }
  }
}
