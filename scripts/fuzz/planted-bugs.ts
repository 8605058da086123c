/**
 * Code with bugs planted on purpose, for the fuzzer's own tests (test/fuzz/engine.test.ts):
 * each hides behind a four-byte word compared one byte at a time, which random mutation
 * alone almost never finds (one chance in 2^32 a try) and coverage feedback finds in a few
 * thousand executions, one byte (one new branch) at a time. `PLANTED_BUG` picks the bug.
 */

export type PlantedBug = 'exception' | 'hang' | 'never-settles';

function spells(input: Uint8Array, at: number, word: string): boolean {
  if (input[at] === word.charCodeAt(0)) {
    if (input[at + 1] === word.charCodeAt(1)) {
      if (input[at + 2] === word.charCodeAt(2)) {
        if (input[at + 3] === word.charCodeAt(3)) return true;
      }
    }
  }
  return false;
}

export function plantedBugs(input: Uint8Array, bug: PlantedBug): void | Promise<void> {
  if (!spells(input, 0, 'FUZZ')) return;
  if (bug === 'exception') throw new TypeError('planted bug reached');
  if (bug === 'never-settles') return new Promise<void>(() => undefined);
  for (;;) {
    // the planted hang
  }
}
