import type { FieldSpec } from '../../../schema/processed-crash.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../../schema/field-catalog.js';
import type { Rule } from '../rule.js';

/** The main dump's field name, as Breakpad clients send it. */
export const MAIN_DUMP = 'upload_file_minidump';

/**
 * Annotation values as clients send them can hold NUL bytes (C strings copied whole) and
 * empty values (unset fields); both are noise for search. Socorro's collector-side
 * cleaning, done here so reprocessing applies it to old crashes too.
 */
export const cleanAnnotationsRule: Rule = {
  name: 'clean annotations',
  act({ annotations, notes }) {
    let removedNuls = 0;
    for (const [key, value] of Object.entries(annotations)) {
      if (value.includes('\0')) {
        annotations[key] = value.replace(/\0/g, '');
        removedNuls++;
      }
      if (annotations[key].trim() === '') delete annotations[key];
    }
    if (removedNuls > 0) notes.push(`removed NUL bytes from ${removedNuls} annotation${removedNuls > 1 ? 's' : ''}`);
  },
};

/** What was submitted: annotation names, dump names and checksums, and the report type. */
export const submissionFactsRule: Rule = {
  name: 'submission facts',
  act({ raw, annotations, processed }) {
    processed.annotation_keys = Object.keys(annotations).sort();
    processed.dump_names = Object.keys(raw.metadata.dumps).sort();
    processed.dump_checksums = Object.fromEntries(Object.entries(raw.metadata.dumps).map(([name, info]) => [name, info.sha256]));
    const hang = annotations.Hang === '1' || annotations.Hang?.toLowerCase() === 'true' || annotations.HangID !== undefined;
    processed.report_type = !raw.metadata.dumps[MAIN_DUMP] ? 'no-dump' : hang ? 'hang' : 'crash';
  },
};

/**
 * Copies annotations into processed fields as the node's field catalog declares them
 * (built-in fields and those its configuration declares), converting each to its declared
 * type; a value that does not convert is left out and noted (it stays visible in the raw
 * crash). It reads the raw annotations, so a crash reprocessed after a field was declared
 * gains that field.
 */
export function annotationFieldsRuleFor(catalog: FieldCatalog): Rule {
  const fed = catalog.fields.filter((spec) => spec.annotations && spec.annotations.length > 0);
  return {
    name: 'annotation fields',
    act({ annotations, processed, notes }) {
      for (const spec of fed) {
        const source = spec.annotations!.find((name) => annotations[name] !== undefined);
        if (source === undefined) continue;
        const converted = convert(spec, annotations[source]);
        if (converted === undefined) notes.push(`annotation ${source}: "${annotations[source].slice(0, 40)}" is not a valid ${spec.type}`);
        else processed[spec.name] = converted;
      }
    },
  };
}

/** The rule for the built-in fields alone. */
export const annotationFieldsRule: Rule = annotationFieldsRuleFor(DEFAULT_FIELD_CATALOG);

/** Clients that do not say which process crashed are single-process: the parent. */
export const processTypeRule: Rule = {
  name: 'process type',
  act({ processed }) {
    const value = typeof processed.process_type === 'string' ? processed.process_type.toLowerCase() : '';
    // Electron and Chromium call the main process "browser"; Socorro calls it "parent".
    processed.process_type = value === '' || value === 'browser' || value === 'main' ? 'parent' : value;
  },
};

/** Most collector notes carried over: raw crashes stored before the collector bounded its notes may hold millions. */
export const MAX_COLLECTOR_NOTES_CARRIED = 50;

/** Collector notes (e.g. a main dump that is not a minidump) carried into processor notes. */
export const collectorNotesRule: Rule = {
  name: 'collector notes',
  act({ raw, notes }) {
    const all = raw.metadata.collector_notes;
    for (const note of all.slice(0, MAX_COLLECTOR_NOTES_CARRIED)) notes.push(`collector: ${note}`);
    if (all.length > MAX_COLLECTOR_NOTES_CARRIED) notes.push(`collector: ${all.length - MAX_COLLECTOR_NOTES_CARRIED} more notes not carried over`);
  },
};

function convert(spec: FieldSpec, value: string): unknown {
  switch (spec.type) {
    case 'integer': {
      const trimmed = value.trim();
      return /^-?\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : undefined;
    }
    case 'number': {
      const n = Number(value.trim());
      return value.trim() !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': {
      const lower = value.trim().toLowerCase();
      if (lower === '1' || lower === 'true') return true;
      if (lower === '0' || lower === 'false') return false;
      return undefined;
    }
    case 'date': {
      // Crash reporters send times as seconds since the epoch (CrashTime, InstallTime); ISO 8601 is taken too.
      const trimmed = value.trim();
      const ms = /^\d{1,12}$/.test(trimmed) ? Number(trimmed) * 1000 : /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : NaN;
      return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
    }
    default:
      return value;
  }
}
