/** Report layouts: Breakpad's text forms and the `json_dump` document. */
export { toMachineReadable } from './machine-readable.js';
export { toHumanReadable } from './human.js';
export { toJsonDump, type Json } from './json-dump.js';
