/**
 * Checks one staged `.sym` before it may enter the store: it must parse (a malformed
 * record is refused with its line number, whereas the processor would skip it; an
 * upload is the moment to find out), and its `MODULE` line must name the module it is
 * uploaded as: the zip entry's path, or the debug file and id declared by `sym_upload`.
 * A mismatch would store symbols where no crash will look for them, or worse, under
 * another module's name.
 *
 * The file is read as a stream and checked line by line (`SymbolFileValidator`, the
 * parser's own record checks): an upload may be gigabytes, and memory holds a chunk and a
 * line, not the file and its lookup tables.
 */

import { createReadStream } from 'node:fs';

import { formatSymbolParseError } from '../../minidump/symbols/parse-symbol-file.js';
import { SymbolFileValidator, type SymbolFileValidation } from '../../minidump/symbols/symbol-file-validator.js';
import { symbolStorePath, type SymbolKey } from '../../ports/symbol-store.js';
import { quoteName, unsafeComponent } from './safe-names.js';
import { UploadRefused } from './upload-refused.js';

/** What the upload says the file is. */
export type SymbolFileClaim =
  /** A zip entry: its path must be the store path of the file's MODULE. */
  | { readonly kind: 'path'; readonly path: string }
  /** `sym_upload`'s `debug_file` and `debug_identifier` fields. */
  | { readonly kind: 'declared'; readonly debugFile: string; readonly debugId: string }
  /** Nothing claimed: the MODULE line decides. */
  | { readonly kind: 'none' };

export interface ValidatedSymbolFile {
  /** The key from the MODULE line (debug id in upper case, as stackwalkers ask for it). */
  readonly key: SymbolKey;
  readonly storePath: string;
  readonly os: string;
  readonly cpu: string;
}

function normaliseId(id: string): string {
  return id.replace(/-/g, '').toUpperCase();
}

/** `label` names the file in messages (the zip entry name, or the form field). */
export async function validateSymbolFile(file: string, claim: SymbolFileClaim, label: string): Promise<ValidatedSymbolFile> {
  const parsed = await validateStreaming(file);
  if (parsed.status === 'corrupt') throw new UploadRefused(400, `${label}: not a valid symbol file: ${parsed.error}`);
  if (parsed.errorCount > 0) {
    const more = parsed.errorCount > 1 ? ` (and ${parsed.errorCount - 1} more bad record${parsed.errorCount > 2 ? 's' : ''})` : '';
    throw new UploadRefused(400, `${label}: corrupt symbol file: ${formatSymbolParseError(parsed.errors[0])}${more}`);
  }
  const module = parsed.module!;
  const problem = unsafeComponent(module.debugFile);
  if (problem) throw new UploadRefused(400, `${label}: the MODULE line's debug file ${quoteName(module.debugFile)} has ${problem}`);
  const key: SymbolKey = { debugFile: module.debugFile, debugId: normaliseId(module.debugId) };
  const storePath = symbolStorePath(key);
  if (storePath === undefined) throw new UploadRefused(400, `${label}: the MODULE line names no usable debug file and id`);

  if (claim.kind === 'path' && claim.path !== storePath && !sameApartFromIdCase(claim.path, storePath)) {
    throw new UploadRefused(400, `${label}: its MODULE line (${module.debugFile} ${module.debugId}) belongs at ${quoteName(storePath)}, not at ${quoteName(claim.path)}`);
  }
  if (claim.kind === 'declared' && (claim.debugFile !== module.debugFile || normaliseId(claim.debugId) !== key.debugId)) {
    throw new UploadRefused(
      400,
      `${label}: declared as ${quoteName(claim.debugFile)} ${quoteName(claim.debugId)} but its MODULE line says ${quoteName(module.debugFile)} ${quoteName(module.debugId)}`,
    );
  }
  return { key, storePath, os: module.os, cpu: module.cpu };
}

async function validateStreaming(file: string): Promise<SymbolFileValidation> {
  const validator = new SymbolFileValidator();
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      validator.push(chunk as Buffer);
      // A bad or missing MODULE line is known at once: the rest need not be read.
      if (validator.failed) break;
    }
  } finally {
    stream.destroy();
  }
  return validator.finish();
}

/** Debug ids are hex; a lower-case id in a zip path names the same file. */
function sameApartFromIdCase(claimed: string, expected: string): boolean {
  const a = claimed.split('/');
  const b = expected.split('/');
  return a.length === 3 && a[0] === b[0] && a[2] === b[2] && a[1].toUpperCase() === b[1];
}
