/**
 * What a fuzz target declares: the code it exercises (instrumented for coverage), its
 * seeds and dictionary, and `execute`, which runs one input and throws when the target
 * broke its contract (an exception it promises never to throw, or an invariant the
 * target asserts). Refusals that the contract allows are caught by `execute` itself.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the shared corpus lives, when this checkout has it (it is never copied in). */
export const SHARED_CORPUS = resolve(PROJECT_ROOT, '../shared/corpus');

export type CustomMutator = (data: Uint8Array, random: () => number) => Uint8Array;

export interface FuzzTarget {
  readonly name: string;
  /** Inputs are cut to this many bytes. */
  readonly maxLength: number;
  /** Text formats also get line and number mutations. */
  readonly text: boolean;
  readonly dictionary: readonly (string | Uint8Array)[];
  /** Mutations that know the format, tried alongside the generic ones. */
  readonly customMutators?: readonly CustomMutator[];
  /** Initial inputs, from the corpus and hand-made samples. */
  seeds(): Uint8Array[] | Promise<Uint8Array[]>;
  /** Runs one input; throws `InvariantViolation` or lets an unexpected exception escape. */
  execute(input: Uint8Array): void | Promise<void>;
  /** Releases what `execute` set up (temporary folders). */
  close?(): void | Promise<void>;
}

/** A contract broken without an exception: the target's own check failed. */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantViolation(typeof message === 'string' ? message : message());
}

/** A module under scripts/fuzz/targets/ exports its target as `target`. */
export interface FuzzTargetModule {
  readonly target: FuzzTarget;
}

/**
 * What the runner must know before a target's module is loaded: which source gets
 * coverage counters (the hooks must be in place before the target imports that code).
 */
export interface TargetEntry {
  /** One line for `--help` and reports. */
  readonly description: string;
  /** Source files or directories, relative to the project root. */
  readonly instrument: readonly string[];
  /** The module under scripts/fuzz/targets/ (without extension). */
  readonly module: string;
  /** Time one input may take before it is a `slow` finding, unless `--budget-ms` says otherwise (1,000 ms). */
  readonly budgetMillis?: number;
}
