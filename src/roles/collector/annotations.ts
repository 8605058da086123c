import { MAX_JSON_DEPTH, jsonNestsDeeperThan } from './json-depth.js';
import { malformed, tooLarge } from './refusal.js';

/**
 * Collects a submission's annotations from its form fields and its JSON `extra` field,
 * with the two documented rules (docs/clients.md) that make the result independent of the
 * order of parts:
 *
 * - **Duplicate names.** Values sent more than once under one name (repeated fields, or a
 *   field and an `extra` key) are compared: equal values collapse into one; different
 *   values keep the smallest in code-unit order as the annotation, and all of them, sorted,
 *   in `metadata.duplicate_annotations` with a collector note. No value is lost and no
 *   part order changes the outcome.
 * - **Non-UTF-8 values.** Values are decoded as UTF-8; invalid bytes become U+FFFD, the
 *   exact bytes are kept in base64 in `metadata.invalid_utf8_annotations`, and a note says
 *   so. The crash is accepted: a crash is worth more than a clean annotation.
 */

export interface CollectedAnnotations {
  annotations: Record<string, string>;
  duplicates: Record<string, string[]>;
  invalidUtf8: Record<string, string>;
  notes: string[];
}

export interface AnnotationLimits {
  maxAnnotations: number;
  maxAnnotationSize: number;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

export class AnnotationCollector {
  private readonly values = new Map<string, Set<string>>();
  private readonly invalid = new Map<string, string>();
  private namelessParts = 0;

  constructor(private readonly limits: AnnotationLimits) {}

  get count(): number {
    return this.values.size;
  }

  /** Throws 413 as soon as a value grows past the limit, so it is never held whole. */
  checkSize(name: string, bytesSoFar: number): void {
    if (bytesSoFar > this.limits.maxAnnotationSize) {
      throw tooLarge('annotation_too_large', `annotation ${name} exceeds ${this.limits.maxAnnotationSize} bytes`);
    }
  }

  addField(name: string, bytes: Buffer): void {
    this.checkSize(name, bytes.length);
    let value: string;
    try {
      value = strictUtf8.decode(bytes);
    } catch {
      value = lenientUtf8.decode(bytes);
      if (!this.invalid.has(name)) this.invalid.set(name, bytes.toString('base64'));
    }
    this.add(name, value);
  }

  /** The `extra` field: a JSON object of annotations (Crashpad/Socorro's JSON payload). */
  addExtra(bytes: Buffer): void {
    this.checkSize('extra', bytes.length);
    let parsed: unknown;
    try {
      const text = strictUtf8.decode(bytes);
      // Checked on the text: a deep value parses, but cannot be turned back into text.
      if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) throw new Error(`it nests deeper than ${MAX_JSON_DEPTH} levels`);
      parsed = JSON.parse(text);
    } catch (error) {
      throw malformed('bad_json', `the extra field is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed('bad_json', 'the extra field is not a JSON object');
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (value === null || value === undefined) continue;
      // Non-string values are kept as their JSON text (numbers, booleans, nested objects).
      let text: string;
      try {
        text = typeof value === 'string' ? value : JSON.stringify(value);
      } catch (error) {
        throw malformed('bad_json', `the extra field's ${name} cannot be stored: ${(error as Error).message}`);
      }
      this.checkSize(name, Buffer.byteLength(text));
      this.add(name, text);
    }
  }

  finish(): CollectedAnnotations {
    const annotations: Record<string, string> = {};
    const duplicates: Record<string, string[]> = {};
    for (const name of [...this.values.keys()].sort()) {
      const distinct = [...this.values.get(name)!].sort(compareCodeUnits);
      annotations[name] = distinct[0];
      if (distinct.length > 1) duplicates[name] = distinct;
    }
    const notes: string[] = [];
    if (this.namelessParts > 0) notes.push(this.namelessParts === 1 ? 'a part without a name was ignored' : `${this.namelessParts} parts without a name were ignored`);
    const duplicated = Object.keys(duplicates);
    if (duplicated.length > 0) notes.push(`annotations sent more than once with different values: ${duplicated.join(', ')} (smallest value kept; all in metadata.duplicate_annotations)`);
    const invalidNames = [...this.invalid.keys()].sort();
    if (invalidNames.length > 0) notes.push(`annotations not valid UTF-8: ${invalidNames.join(', ')} (bytes in metadata.invalid_utf8_annotations)`);
    return { annotations, duplicates, invalidUtf8: Object.fromEntries(invalidNames.map((n) => [n, this.invalid.get(n)!])), notes };
  }

  /** A part without a name carries nothing usable: it is counted, and noted once. */
  ignoreNamelessPart(): void {
    this.namelessParts++;
  }

  private add(name: string, value: string): void {
    let set = this.values.get(name);
    if (!set) {
      if (this.values.size >= this.limits.maxAnnotations) throw tooLarge('too_many_annotations', `more than ${this.limits.maxAnnotations} annotations`);
      set = new Set();
      this.values.set(name, set);
    }
    set.add(value);
  }
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
