/**
 * The processor's signature rule, and the loader of the signature lists it is built with.
 *
 * Signature generation itself (`src/signature/`) is pure and gets the lists' text; this
 * module is where files are read: the defaults shipped in `resources/signature/`, or an
 * operator's directory holding edited copies of some of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  compileSignatureLists,
  generateSignature,
  signatureInputFromCrash,
  signatureListFile,
  SIGNATURE_LIST_NAMES,
  type SignatureListName,
  type SignatureLists,
} from '../../signature/index.js';
import type { Rule } from './rule.js';

/** `resources/signature/` of the installation (the same relative place from `src/` and from `dist/`). */
export const DEFAULT_SIGNATURE_LISTS_DIR = fileURLToPath(new URL('../../../resources/signature/', import.meta.url));

/**
 * Reads and compiles the four lists. A list missing from `dir` comes from the defaults,
 * so an operator can override one list without copying the others. Invalid lines throw a
 * `SignatureListError` naming each file and line.
 */
export function loadSignatureLists(dir?: string): SignatureLists {
  const read = (name: SignatureListName) => {
    const own = dir === undefined ? undefined : join(dir, signatureListFile(name));
    if (own !== undefined && existsSync(own)) return { text: readFileSync(own, 'utf8'), source: own };
    // Named relative to the installation: signature_debug of every crash carries it.
    return { text: readFileSync(join(DEFAULT_SIGNATURE_LISTS_DIR, signatureListFile(name)), 'utf8'), source: `resources/signature/${signatureListFile(name)}` };
  };
  const texts = Object.fromEntries(SIGNATURE_LIST_NAMES.map((name) => [name, read(name)])) as Record<SignatureListName, { text: string; source: string }>;
  return compileSignatureLists(texts);
}

/**
 * Sets `signature`, `proto_signature` and `signature_debug` from the crashing thread of
 * `json_dump` and the processed fields that change signatures (`abort_message`,
 * `oom_allocation_size`, `report_type`, `mdsw_status_string`). Named `signature`: the
 * signature-only ruleset finds it by that name.
 */
export function signatureRule(lists: SignatureLists): Rule {
  return {
    name: 'signature',
    act({ processed, notes }) {
      const result = generateSignature(signatureInputFromCrash(processed), lists);
      processed.signature = result.signature;
      processed.proto_signature = result.protoSignature;
      processed.signature_debug = [...result.debug];
      // Without a dump the stackwalk rule already said so; "no crashing thread" would repeat it.
      if (processed.json_dump !== undefined) for (const note of result.notes) notes.push(`signature: ${note}`);
    },
  };
}
