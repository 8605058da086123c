import type { MissingModule, MissingSymbolsLog } from '../../ports/symbol-store.js';
import type { Rule } from './rule.js';

interface ModuleDoc {
  filename?: string | null;
  code_id?: string | null;
  debug_file?: string | null;
  debug_id?: string | null;
  missing_symbols?: boolean;
}

/**
 * Records which modules' symbols this crash was missing, for the missing-symbols report
 * and for "reprocess the crashes that missed this module" after an upload.
 *
 * The stackwalker marks `missing_symbols` only on modules a frame landed in (as
 * rust-minidump does), which is what matters: a module no stack went through needs no
 * symbols. Modules without a debug file or id cannot be uploaded for, so they are left
 * out. It runs (and replaces the crash's rows) on every processing, so a crash
 * reprocessed with the symbols now present stops counting.
 */
export function missingSymbolsRule(log: MissingSymbolsLog): Rule {
  return {
    name: 'missing symbols',
    async act({ crashId, raw, processed }) {
      const dump = processed.json_dump as { modules?: ModuleDoc[] } | undefined;
      const seen = new Set<string>();
      const missing: MissingModule[] = [];
      for (const module of dump?.modules ?? []) {
        if (module.missing_symbols !== true || !module.debug_file || !module.debug_id) continue;
        const key = `${module.debug_file}\u0000${module.debug_id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        missing.push({ debugFile: module.debug_file, debugId: module.debug_id, codeFile: module.filename ?? null, codeId: module.code_id ?? null });
      }
      const submittedAt = Date.parse(raw.submitted_timestamp);
      await log.record(
        {
          crashId,
          submittedAt: Number.isFinite(submittedAt) ? submittedAt : Date.now(),
          os: typeof processed.os_name === 'string' ? processed.os_name : null,
          cpu: typeof processed.cpu_arch === 'string' ? processed.cpu_arch : null,
        },
        missing,
      );
    },
  };
}

