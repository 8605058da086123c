/**
 * Option kinds of the configuration schema. Each knows how to parse the text an INI file
 * or an environment variable holds, and how to describe itself (for docs, the
 * Configurator's forms and the JSON Schema).
 */

export type OptionKind = 'string' | 'integer' | 'boolean' | 'enum' | 'list' | 'duration' | 'size' | 'path' | 'url' | 'regex' | 'rules';

export interface OptionSpec<T> {
  readonly kind: OptionKind;
  readonly description: string;
  /** Absent means the option has no default (it may still be optional). */
  readonly default?: T;
  readonly required?: boolean;
  /** Allowed values (enum) or allowed items (list). */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Never printed in logs or `config explain` output (tokens, passwords). */
  readonly secret?: boolean;
  /** Parses the raw text; throws an Error whose message explains what was expected. */
  parse(raw: string): T;
  /** Formats a value back into the text form (for generated files and docs). */
  format(value: T): string;
  /** For `rules` options: the fields each named rule may set (see `rules()`). */
  readonly ruleFields?: RuleFields;
  /** For `rules` options whose names mean something (a field's name): what is wrong with one, reported at its section. */
  readonly checkRuleName?: (name: string) => string | undefined;
}

interface Common<T> {
  description: string;
  default?: T;
  required?: boolean;
  secret?: boolean;
}

export function string(options: Common<string> & { pattern?: RegExp; patternHint?: string }): OptionSpec<string> {
  return {
    kind: 'string',
    ...options,
    parse(raw) {
      if (options.pattern && !options.pattern.test(raw)) throw new Error(`expected ${options.patternHint ?? options.pattern.source}, ${options.secret ? 'got a value not shown (it is secret)' : `got "${raw}"`}`);
      return raw;
    },
    format: (v) => v,
  };
}

export function path(options: Common<string>): OptionSpec<string> {
  return {
    kind: 'path',
    ...options,
    parse(raw) {
      if (raw.includes('\0')) throw new Error('a path cannot contain a NUL byte');
      if (raw === '') throw new Error('expected a path, got an empty value');
      return raw;
    },
    format: (v) => v,
  };
}

export function url(options: Common<string> & { protocols: readonly string[] }): OptionSpec<string> {
  return {
    kind: 'url',
    ...options,
    values: options.protocols,
    parse(raw) {
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        // A secret URL (a database's, with its password) that fails to parse is still a secret.
        throw new Error(options.secret ? `expected a URL (${options.protocols.join(', ')}); the value is not shown, it is secret` : `expected a URL (${options.protocols.join(', ')}), got "${raw}"`);
      }
      const scheme = parsed.protocol.replace(/:$/, '');
      if (!options.protocols.includes(scheme)) throw new Error(`expected a ${options.protocols.join(' or ')} URL, got "${scheme}:"`);
      return raw;
    },
    format: (v) => v,
  };
}

export function integer(options: Common<number> & { min?: number; max?: number }): OptionSpec<number> {
  return {
    kind: 'integer',
    ...options,
    parse(raw) {
      if (!/^[+-]?\d+$/.test(raw)) throw new Error(`expected an integer, got "${raw}"`);
      const value = Number(raw) + 0; // "-0" is 0, not negative zero
      checkRange(value, options.min, options.max, String);
      return value;
    },
    format: String,
  };
}

export function boolean(options: Common<boolean>): OptionSpec<boolean> {
  return {
    kind: 'boolean',
    ...options,
    parse(raw) {
      const lower = raw.toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(lower)) return true;
      if (['false', 'no', 'off', '0'].includes(lower)) return false;
      throw new Error(`expected true or false, got "${raw}"`);
    },
    format: (v) => (v ? 'true' : 'false'),
  };
}

export function oneOf<const V extends string>(values: readonly V[], options: Common<V>): OptionSpec<V> {
  return {
    kind: 'enum',
    ...options,
    values,
    parse(raw) {
      if (!(values as readonly string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
      return raw as V;
    },
    format: (v) => v,
  };
}

/** Comma-separated list; with `values`, each item must be one of them. */
export function list(options: Common<string[]> & { values?: readonly string[]; unique?: boolean }): OptionSpec<string[]> {
  return {
    kind: 'list',
    ...options,
    parse(raw) {
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (options.values) {
        const bad = items.filter((item) => !options.values!.includes(item));
        if (bad.length > 0) throw new Error(`unknown value${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')} (allowed: ${options.values.join(', ')})`);
      }
      if (options.unique) {
        const dup = items.find((item, i) => items.indexOf(item) !== i);
        if (dup !== undefined) throw new Error(`"${dup}" is listed twice`);
      }
      return items;
    },
    format: (v) => v.join(', '),
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Durations are written `250ms`, `30s`, `5m`, `2h`, `7d`; parsed to milliseconds. */
export function duration(options: Common<number> & { min?: number; max?: number }): OptionSpec<number> {
  return {
    kind: 'duration',
    ...options,
    parse(raw) {
      const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(raw);
      if (!match) throw new Error(`expected a duration such as 500ms, 30s, 5m, 2h or 7d, got "${raw}"`);
      const value = Math.round(Number(match[1]) * DURATION_UNITS[match[2]]);
      checkRange(value, options.min, options.max, formatDuration);
      return value;
    },
    format: formatDuration,
  };
}

export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const factor = DURATION_UNITS[unit];
    if (ms >= factor && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Sizes are written `512KB`, `20MB`, `1GB` (binary multiples) or a plain byte count. */
export function size(options: Common<number> & { min?: number; max?: number }): OptionSpec<number> {
  return {
    kind: 'size',
    ...options,
    parse(raw) {
      const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
      const unit = (match?.[2] || 'b').toLowerCase();
      if (!match || SIZE_UNITS[unit] === undefined) throw new Error(`expected a size such as 512KB, 20MB or 1GB, got "${raw}"`);
      const value = Math.round(Number(match[1]) * SIZE_UNITS[unit]);
      checkRange(value, options.min, options.max, formatSize);
      return value;
    },
    format: formatSize,
  };
}

export function formatSize(bytes: number): string {
  for (const unit of ['GB', 'MB', 'KB'] as const) {
    const factor = SIZE_UNITS[unit.toLowerCase()];
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}

function checkRange(value: number, min: number | undefined, max: number | undefined, show: (n: number) => string): void {
  // Past 2^53 a number is no longer exact (and 400 digits make Infinity), so it would not
  // read back as written, nor mean what the operator wrote.
  if (!Number.isSafeInteger(value)) throw new Error(`the number is too large to be exact (beyond ${show(Number.MAX_SAFE_INTEGER)} either way)`);
  if (min !== undefined && value < min) throw new Error(`must be at least ${show(min)}, got ${show(value)}`);
  if (max !== undefined && value > max) throw new Error(`must be at most ${show(max)}, got ${show(value)}`);
}

/** Marks an option without a default: its value in the loaded config may be `undefined`. */
export function optional<T>(spec: OptionSpec<T>): OptionSpec<T | undefined> {
  return spec as OptionSpec<T | undefined>;
}

/** A regular expression, checked when the file is loaded (so a typo stops start-up, not a request). */
export function regex(options: Common<string>): OptionSpec<string> {
  return {
    kind: 'regex',
    ...options,
    parse(raw) {
      try {
        new RegExp(raw, 'u');
      } catch (error) {
        throw new Error(`expected a regular expression: ${(error as Error).message}`);
      }
      return raw;
    },
    format: (v) => v,
  };
}

/**
 * The fields a named rule may set: `fields` by exact key, and `families` by prefix, for
 * keys such as `annotation.ProcessType` whose second half is free (it names an annotation).
 */
export interface RuleFields {
  readonly fields: Readonly<Record<string, OptionSpec<unknown>>>;
  readonly families?: Readonly<Record<string, OptionSpec<unknown>>>;
}

/**
 * One rule of an ordered list of named rules, as written in the file:
 *
 * ```ini
 * [throttle.rules.old_versions]
 * version = ^0\.
 * action = reject
 * ```
 *
 * `fields` holds parsed values by key; `families` holds prefixed keys by prefix, then by
 * the rest of the key (`families.annotation.ProcessType`).
 */
export interface NamedRule {
  name: string;
  fields: Record<string, unknown>;
  families: Record<string, Record<string, unknown>>;
  /** Where the rule's section starts, when it came from a file. */
  line?: number;
}

export const RULE_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * An ordered list of named rules. INI has no lists of tables, so each rule is its own
 * section `[SECTION.KEY.NAME]` and the file's order of sections is the rules' order (the
 * loader collects them). In the environment, where there are no sections, the whole list
 * is one JSON array of objects with a `name` and string values:
 * `[{"name": "old", "version": "^0\\.", "action": "reject"}]`.
 */
export function rules(options: Common<NamedRule[]> & { ruleFields: RuleFields; checkRuleName?: (name: string) => string | undefined }): OptionSpec<NamedRule[]> {
  return {
    kind: 'rules',
    ...options,
    parse(raw) {
      let items: unknown;
      try {
        items = JSON.parse(raw);
      } catch {
        throw new Error('expected a JSON array of rules (in a file, write one [section.key.NAME] section per rule)');
      }
      if (!Array.isArray(items)) throw new Error('expected a JSON array of rules');
      return items.map((item, index) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new Error(`rule ${index + 1} is not an object`);
        const { name, ...rest } = item as Record<string, unknown>;
        if (typeof name !== 'string' || !RULE_NAME.test(name)) throw new Error(`rule ${index + 1} needs a "name" of letters, digits, "_" and "-"`);
        const nameProblem = options.checkRuleName?.(name);
        if (nameProblem) throw new Error(`rule ${name}: ${nameProblem}`);
        const entries = Object.entries(rest).map(([key, value]) => ({ key, value: String(value) }));
        const { rule, problems } = parseRule(name, entries, options.ruleFields);
        if (problems.length > 0) throw new Error(`rule ${name}: ${problems[0].message}`);
        return rule;
      });
    },
    format: (value) => JSON.stringify(value.map((rule) => ({ name: rule.name, ...formatRuleFields(rule, options.ruleFields) }))),
  };
}

/** Parses one rule's `key = value` entries; every problem is returned with its key. */
export function parseRule(
  name: string,
  entries: ReadonlyArray<{ key: string; value: string }>,
  spec: RuleFields,
): { rule: NamedRule; problems: { key: string; message: string }[] } {
  const rule: NamedRule = { name, fields: {}, families: {} };
  const problems: { key: string; message: string }[] = [];
  for (const { key, value } of entries) {
    const dot = key.indexOf('.');
    // Keys come from the file: only the spec's own names count, not `toString` and kin.
    const family = dot > 0 && spec.families && Object.hasOwn(spec.families, key.slice(0, dot)) ? spec.families[key.slice(0, dot)] : undefined;
    const field = Object.hasOwn(spec.fields, key) ? spec.fields[key] : family;
    if (!field) {
      const known = [...Object.keys(spec.fields), ...Object.keys(spec.families ?? {}).map((f) => `${f}.NAME`)];
      problems.push({ key, message: `unknown rule field "${key}" (allowed: ${known.join(', ')})` });
      continue;
    }
    if (!Object.hasOwn(spec.fields, key) && key.slice(dot + 1) === '__proto__') {
      // It would set the prototype of the family's object rather than an entry of it.
      problems.push({ key, message: `${key}: "__proto__" cannot be named here` });
      continue;
    }
    try {
      const parsed = field.parse(value);
      if (Object.hasOwn(spec.fields, key)) rule.fields[key] = parsed;
      else (rule.families[key.slice(0, dot)] ??= {})[key.slice(dot + 1)] = parsed;
    } catch (error) {
      problems.push({ key, message: `${key}: ${(error as Error).message}` });
    }
  }
  for (const [key, field] of Object.entries(spec.fields)) {
    if (field.required && rule.fields[key] === undefined && !problems.some((p) => p.key === key)) {
      problems.push({ key, message: `${key} is required: ${field.description}` });
    }
  }
  return { rule, problems };
}

function formatRuleFields(rule: NamedRule, spec: RuleFields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(rule.fields)) out[key] = spec.fields[key].format(value);
  for (const [family, values] of Object.entries(rule.families)) {
    for (const [rest, value] of Object.entries(values)) out[`${family}.${rest}`] = spec.families![family].format(value);
  }
  return out;
}
