/**
 * Dump names become file names in storage, so they are kept to a safe alphabet. Breakpad's
 * main dump is `upload_file_minidump`; any other file part is an additional dump kept under
 * its own (sanitised) name, e.g. `upload_file_minidump_browser`.
 */
export const MAIN_DUMP = 'upload_file_minidump';

/** Names that would collide with what the store keeps beside the dumps. */
const RESERVED = new Set(['raw_crash', 'dump_names', 'raw_crash.json', 'metadata', 'extra']);
const MAX_LENGTH = 100;

/** The stored name of a dump part, or undefined when nothing safe is left of it or it is reserved. */
export function sanitizeDumpName(fieldName: string): string | undefined {
  const name = fieldName.replace(/[^A-Za-z0-9_-]/g, '').slice(0, MAX_LENGTH);
  if (name === '' || !/^[A-Za-z0-9_]/.test(name) || RESERVED.has(name.toLowerCase())) return undefined;
  return name;
}
