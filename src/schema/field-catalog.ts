import { PROCESSED_CRASH_FIELDS, type FieldSpec, type FieldType } from './processed-crash.js';

/**
 * The fields of one deployment: the built-in processed crash fields plus the annotation
 * fields its operators declared in the configuration (`[annotations.fields.NAME]`). Every
 * part that used to read the built-in table alone (the processor's annotation rule, the
 * crash index, Super Search, redaction, the field list and the data dictionary) is handed
 * the node's catalog, so a declared field is typed, indexed, searchable and protected
 * like a built-in one, without a code change or a migration (custom fields live in the
 * crash index's JSON document).
 */

/** The types an operator may give a declared field: scalar ones, which an annotation (one string) can hold. */
export const CUSTOM_FIELD_TYPES = ['keyword', 'text', 'integer', 'number', 'boolean', 'date'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number] & FieldType;

/** Lower-case, as Socorro's field names; the crash index quotes it into JSON paths, so nothing else. */
export const CUSTOM_FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Names Super Search gives a meaning of its own (`date` is `submitted_timestamp`). */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['date']);

const BUILT_IN_NAMES: ReadonlySet<string> = new Set(PROCESSED_CRASH_FIELDS.map((f) => f.name));

/** One field as the configuration declares it. */
export interface CustomFieldDeclaration {
  readonly name: string;
  /** The annotation that feeds it (default: the field's name). */
  readonly annotation?: string;
  readonly type: CustomFieldType;
  readonly protected?: boolean;
  readonly description?: string;
}

/** What is wrong with a declared field's name, or undefined: the configuration loader reports it at its line. */
export function customFieldNameProblem(name: string): string | undefined {
  if (!CUSTOM_FIELD_NAME.test(name)) return `field name "${name}": use a lower-case letter, then up to 63 lower-case letters, digits and "_"`;
  if (BUILT_IN_NAMES.has(name)) return `field name "${name}" is a built-in field (see /documentation/datadictionary/): choose another name`;
  if (RESERVED_NAMES.has(name)) return `field name "${name}" is reserved by Super Search: choose another name`;
  return undefined;
}

export class FieldCatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldCatalogError';
  }
}

export interface FieldCatalog {
  /** Every field, built-in ones first, then the declared ones in declaration order. */
  readonly fields: readonly FieldSpec[];
  /** The declared fields only. */
  readonly custom: readonly FieldSpec[];
  /** Fields the crash index keeps (search, facets, sort). */
  readonly searchable: readonly FieldSpec[];
  readonly protectedFields: ReadonlySet<string>;
  /** Annotations whose values are personal or sensitive, redacted in the raw crash too. */
  readonly protectedAnnotations: ReadonlySet<string>;
  byName(name: string): FieldSpec | undefined;
  /** The field if the crash index keeps it. */
  searchableField(name: string): FieldSpec | undefined;
  /** A copy of a processed crash without its protected fields (for viewers who may not see them). */
  redact<T extends Record<string, unknown>>(crash: T): T;
}

/** The spec of one declared field: searchable, kept in the index's JSON document (no column). */
export function customFieldSpec(declaration: CustomFieldDeclaration): FieldSpec {
  const annotation = declaration.annotation ?? declaration.name;
  return {
    name: declaration.name,
    type: declaration.type,
    description: declaration.description?.trim() || `The ${annotation} annotation.`,
    protected: declaration.protected ?? false,
    searchable: true,
    annotations: [annotation],
    custom: true,
  };
}

/**
 * The catalog of the built-in fields and `declarations`. Refuses a name that is not a
 * valid field name, clashes with a built-in field or is declared twice (the configuration
 * loader refuses these first, at their line; this holds callers that build one by hand).
 */
export function fieldCatalog(declarations: readonly CustomFieldDeclaration[] = []): FieldCatalog {
  const custom: FieldSpec[] = [];
  const seen = new Set<string>();
  for (const declaration of declarations) {
    const problem = customFieldNameProblem(declaration.name);
    if (problem) throw new FieldCatalogError(problem);
    if (seen.has(declaration.name)) throw new FieldCatalogError(`field "${declaration.name}" is declared twice`);
    if (!(CUSTOM_FIELD_TYPES as readonly string[]).includes(declaration.type)) throw new FieldCatalogError(`field "${declaration.name}": type "${declaration.type}" is not one of ${CUSTOM_FIELD_TYPES.join(', ')}`);
    seen.add(declaration.name);
    custom.push(customFieldSpec(declaration));
  }
  const fields = [...PROCESSED_CRASH_FIELDS, ...custom];
  const byName = new Map(fields.map((f) => [f.name, f]));
  const searchable = fields.filter((f) => f.searchable);
  const searchableByName = new Map(searchable.map((f) => [f.name, f]));
  const protectedFields: ReadonlySet<string> = new Set(fields.filter((f) => f.protected).map((f) => f.name));
  const protectedAnnotations: ReadonlySet<string> = new Set(fields.filter((f) => f.protected).flatMap((f) => f.annotations ?? []));
  return {
    fields,
    custom,
    searchable,
    protectedFields,
    protectedAnnotations,
    byName: (name) => byName.get(name),
    searchableField: (name) => searchableByName.get(name),
    redact<T extends Record<string, unknown>>(crash: T): T {
      const copy: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(crash)) if (!protectedFields.has(key)) copy[key] = value;
      return copy as T;
    },
  };
}

/** The built-in fields alone: for callers and tests of a deployment without declared fields. */
export const DEFAULT_FIELD_CATALOG: FieldCatalog = fieldCatalog();

/** A configured field as the configuration's `rules` option hands it over (see `[annotations.fields.NAME]`). */
export interface ConfiguredField {
  readonly name: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The catalog of a node's configuration (`annotations.fields`). */
export function fieldCatalogFromConfig(configured: readonly ConfiguredField[]): FieldCatalog {
  return fieldCatalog(
    configured.map(({ name, fields }) => ({
      name,
      annotation: typeof fields.annotation === 'string' && fields.annotation !== '' ? fields.annotation : undefined,
      type: (typeof fields.type === 'string' ? fields.type : 'keyword') as CustomFieldType,
      protected: fields.protected === true,
      description: typeof fields.description === 'string' ? fields.description : undefined,
    })),
  );
}
