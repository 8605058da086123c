/**
 * A function's line and `INLINE` records, decoded on demand.
 *
 * Line records are most of a symbol file, yet a stack walk looks at a handful of
 * functions; so the parser only validates them and remembers, per FUNC, the byte range
 * its records occupy (its "block"). The first lookup in a function decodes that block with
 * Breakpad's rules: line records in a `RangeMap` (first wins, overlaps dropped) and inline
 * ranges in a `ContainedRangeMap` that allows equal ranges (a later equal range nests
 * inside the earlier one), an `INLINE` whose depth skips a level being dropped.
 */

import { RecordCursor } from './record-cursor.js';
import { RecordKind, forEachLine, recordKind } from './record-kind.js';
import { parseInline, parseLine, scratchRecords } from './records.js';
import { ExclusiveRangeSet, NestedRangeSet, findExclusive, findNested } from './range-sets.js';
import type { FrozenNestedRanges, FrozenRanges } from './range-sets.js';

export interface InlineCall {
  readonly depth: number;
  readonly callLine: number;
  /** -1 when the record names no call-site file. */
  readonly callFileId: number;
  readonly originId: number;
  /** Flattened `[address, size]` pairs, as written. */
  readonly ranges: readonly number[];
}

export interface LineHit {
  readonly base: number;
  readonly line: number;
  readonly fileId: number;
}

export class FunctionDetails {
  private constructor(
    private readonly lines: FrozenRanges,
    private readonly lineNumbers: Uint32Array,
    private readonly lineFiles: Uint32Array,
    private readonly inlineRanges: FrozenNestedRanges,
    private readonly inlineCalls: readonly InlineCall[],
  ) {}

  /** Decode the records in `bytes[blockStart, blockEnd)`; malformed ones were reported at parse time. */
  static decode(bytes: Uint8Array, blockStart: number, blockEnd: number): FunctionDetails {
    const cursor = new RecordCursor();
    const scratch = scratchRecords();
    const lines = new ExclusiveRangeSet();
    const lineNumbers: number[] = [];
    const lineFiles: number[] = [];
    const inlines = new NestedRangeSet(true);
    const calls: InlineCall[] = [];
    let lastDepth = 0;
    forEachLine(bytes, blockStart, blockEnd, 0, (start, end) => {
      const kind = recordKind(bytes, start, end);
      if (kind === RecordKind.Line) {
        const line = scratch.line;
        if (parseLine(cursor.reset(bytes, start, end), line) !== undefined) return;
        if (lines.add(line.address, line.size, lineNumbers.length)) {
          lineNumbers.push(line.line);
          lineFiles.push(line.fileId);
        }
      } else if (kind === RecordKind.Inline) {
        const record = scratch.inline;
        if (parseInline(cursor.reset(bytes, start, end), record) !== undefined) return;
        // Breakpad drops an INLINE whose parent level is missing (a malformed parent).
        if (record.depth > lastDepth + 1) return;
        lastDepth = record.depth;
        const id = calls.length;
        calls.push({ ...record, ranges: record.ranges.slice() });
        for (let i = 0; i + 1 < record.ranges.length; i += 2) {
          inlines.add(record.ranges[i], record.ranges[i + 1], id);
        }
      }
    });
    return new FunctionDetails(
      lines.freeze(),
      Uint32Array.from(lineNumbers),
      Uint32Array.from(lineFiles),
      inlines.freeze(),
      calls,
    );
  }

  /** The line record holding `address`. */
  lineAt(address: number): LineHit | undefined {
    const i = findExclusive(this.lines, address);
    if (i < 0) return undefined;
    const id = this.lines.ids[i];
    return { base: this.lines.starts[i], line: this.lineNumbers[id], fileId: this.lineFiles[id] };
  }

  /** Inline calls holding `address`, innermost first, each with the start of its range there. */
  inlinesAt(address: number): { call: InlineCall; base: number }[] {
    return findNested(this.inlineRanges, address).map((i) => {
      const call = this.inlineCalls[this.inlineRanges.ids[i]];
      // Like Breakpad, the base is the first of the call's own ranges that holds the address.
      let base = this.inlineRanges.starts[i];
      for (let r = 0; r + 1 < call.ranges.length; r += 2) {
        if (address >= call.ranges[r] && address < call.ranges[r] + call.ranges[r + 1]) {
          base = call.ranges[r];
          break;
        }
      }
      return { call, base };
    });
  }

  get retainedBytes(): number {
    return (
      this.lines.starts.byteLength * 2 +
      this.lines.ids.byteLength * 3 +
      this.inlineRanges.starts.byteLength * 3 +
      this.inlineCalls.length * 96
    );
  }
}
