import type { ProcessingContext, Rule, Stackwalker } from './rule.js';

/** The main dump's field name, as Breakpad clients send it. */
export const MAIN_DUMP = 'upload_file_minidump';

/** Identifiers and dates: what every processed crash carries. */
export const identifiersRule: Rule = {
  name: 'identifiers',
  act({ crashId, raw, processed }) {
    processed.uuid = crashId;
    processed.crash_id = crashId;
    processed.submitted_timestamp = raw.submitted_timestamp;
    processed.date_processed = new Date().toISOString();
  },
};

/** Product fields from the (collector-normalised) annotations. */
export const productRule: Rule = {
  name: 'product',
  act({ raw, processed, notes }) {
    const a = raw.annotations;
    processed.product = nonEmpty(a.ProductName);
    processed.version = nonEmpty(a.Version);
    processed.release_channel = nonEmpty(a.ReleaseChannel);
    processed.build = nonEmpty(a.BuildID);
    if (!processed.product) notes.push('no ProductName annotation');
  },
};

/** Collector notes (e.g. a main dump that is not a minidump) carried into processor notes. */
export const collectorNotesRule: Rule = {
  name: 'collector notes',
  act({ raw, notes }) {
    for (const note of raw.metadata.collector_notes) notes.push(`collector: ${note}`);
  },
};

/** Stackwalks the main dump and lifts system and crash fields out of the document. */
export function stackwalkRule(stackwalk: Stackwalker): Rule {
  return {
    name: 'stackwalk',
    applies({ dumps, notes }) {
      if (dumps.has(MAIN_DUMP)) return true;
      notes.push('no minidump in the submission');
      return false;
    },
    async act({ dumps, processed, notes }) {
      const result = await stackwalk(dumps.get(MAIN_DUMP)!);
      processed.json_dump = result.jsonDump;
      processed.mdsw_status_string = result.errors.length === 0 ? 'OK' : result.errors[0];
      for (const error of result.errors) notes.push(`stackwalk: ${error}`);
      Object.assign(processed, fieldsFromJsonDump(result.jsonDump));
    },
  };
}

/**
 * Until Socorro-style signature generation lands (signature lists, prefix and irrelevant
 * frames), the signature is the crashing thread's top frame, normalised minimally.
 */
export const provisionalSignatureRule: Rule = {
  name: 'signature',
  act({ processed }) {
    const dump = processed.json_dump as { threads?: { frames?: { function?: string | null; module?: string | null; module_offset?: string | null; offset?: string }[] }[] } | undefined;
    const thread = typeof processed.crashing_thread === 'number' ? dump?.threads?.[processed.crashing_thread] : undefined;
    const top = thread?.frames?.[0];
    if (!dump) processed.signature = 'EMPTY: no crashing thread identified';
    else if (!top) processed.signature = 'EMPTY: no frame data available';
    else processed.signature = top.function?.replace(/\(.*$/, '') || (top.module ? `${top.module}@${top.module_offset ?? ''}` : `@${top.offset ?? '0x0'}`);
  },
};

export function defaultRuleset(stackwalk: Stackwalker): Rule[] {
  return [identifiersRule, productRule, collectorNotesRule, stackwalkRule(stackwalk), provisionalSignatureRule];
}

interface JsonDumpFields {
  system_info?: { os?: string; os_ver?: string; cpu_arch?: string; cpu_info?: string; cpu_count?: number };
  crash_info?: { type?: string | null; address?: string | null; crashing_thread?: number | null };
}

function fieldsFromJsonDump(jsonDump: Record<string, unknown>): Record<string, unknown> {
  const { system_info: system, crash_info: crash } = jsonDump as JsonDumpFields;
  return {
    os_name: system?.os ?? null,
    os_version: system?.os_ver ?? null,
    cpu_arch: system?.cpu_arch ?? null,
    cpu_info: system?.cpu_info ?? null,
    cpu_count: system?.cpu_count ?? null,
    reason: crash?.type ?? null,
    address: crash?.address ?? null,
    crashing_thread: crash?.crashing_thread ?? null,
  };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value;
}

export type { ProcessingContext };
