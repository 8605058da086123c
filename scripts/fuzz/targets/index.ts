import type { TargetEntry } from '../target.js';

/** The fuzz targets (`npm run fuzz:<name>`) and the source each one measures coverage of. */
export const TARGETS: Readonly<Record<string, TargetEntry>> = {
  multipart: {
    description: 'collector: a whole /submit body (gzip, chunking, multipart, annotations) through receiveSubmission',
    instrument: ['src/roles/collector', 'src/common/multipart.ts', 'src/common/multipart-type.ts'],
    module: 'multipart',
  },
  minidump: {
    description: 'minidump reader, then the stack walker with the corpus symbols, then the JSON document',
    instrument: ['src/minidump'],
    module: 'minidump',
    // The work is linear in the dump: a 320 KB input can describe about 6,800 threads that
    // share one stack and one context, each walked and rendered (about 0.17 ms a thread
    // idle, twice that on the loaded 2-core machine the long runs share: 2.3 s). Superlinear
    // work (finding 6 of docs/security.md, growing with the square) still goes over.
    budgetMillis: 3000,
  },
  sym: {
    description: 'Breakpad .sym parser, then lookups (functions, lines, inlines, CFI, STACK WIN) on what it kept',
    instrument: ['src/minidump/symbols'],
    module: 'sym',
  },
  zip: {
    description: 'symbol upload zips: receiving, extraction (yauzl, bomb limits, entry names), validation of each entry',
    // What an upload runs up to validation (not the plugin or the report).
    instrument: [
      'src/common/multipart.ts',
      'src/common/multipart-type.ts',
      'src/roles/symbols/receive-upload.ts',
      'src/roles/symbols/receive-body.ts',
      'src/roles/symbols/extract-zip.ts',
      'src/roles/symbols/safe-names.ts',
      'src/roles/symbols/validate-symbol-file.ts',
      'src/minidump/symbols/parse-symbol-file.ts',
      'src/minidump/symbols/records.ts',
      'src/minidump/symbols/record-cursor.ts',
    ],
    module: 'zip',
  },
  ini: {
    description: 'configuration: INI parser and loader (schema, rules sections, environment)',
    instrument: ['src/config'],
    module: 'ini',
  },
  supersearch: {
    description: 'Super Search query parameters (parseSuperSearch) from a query string',
    instrument: ['src/roles/web/super-search-params.ts'],
    module: 'supersearch',
  },
  planted: {
    description: "the fuzzer's self-test: a bug behind a four-byte word (PLANTED_BUG=exception|hang|never-settles)",
    instrument: ['scripts/fuzz/planted-bugs.ts'],
    module: 'planted',
  },
  signature: {
    description: 'signature generation from a stackwalker document (JSON) or Breakpad -m frame lines',
    instrument: ['src/signature'],
    module: 'signature',
  },
};
