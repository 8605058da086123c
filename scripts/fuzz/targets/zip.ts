/**
 * Symbol upload zips on hostile input, as the upload route takes them: `receiveUpload`
 * of an `application/zip` body (to a file, then `extractZip`: yauzl, entry names, the
 * declared and the actual uncompressed sizes against the upload's budget), then
 * `validateSymbolFile` on each staged entry.
 *
 * Contract (src/roles/symbols): bad input is refused with an `UploadRefused` (400 or
 * 413), never another exception and never an error event nobody listens to; what is
 * staged stays within the limits (files, bytes), each staged file holds what was
 * reported, and nothing is written outside the staging folder under any other name.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { receiveUpload } from '../../../src/roles/symbols/receive-upload.js';
import { UploadRefused, type UploadLimits } from '../../../src/roles/symbols/upload-refused.js';
import { validateSymbolFile } from '../../../src/roles/symbols/validate-symbol-file.js';
import { makeZip, type ZipEntrySpec } from '../../../test/symbols/support.js';
import { corpusFiles } from '../corpus.js';
import { invariant, type FuzzTarget } from '../target.js';

const LIMITS: UploadLimits = { maxUploadBytes: 256 * 1024, maxUncompressedBytes: 512 * 1024, maxFiles: 8 };
// A RAM disk where there is one: each execution writes the zip and its entries.
const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'mayday-fuzz-zip-'));
let execution = 0;

function refusedProperly(error: unknown): boolean {
  return error instanceof UploadRefused && (error.statusCode === 400 || error.statusCode === 413) && error.message.length > 0;
}

/** A corpus symbol file cut to a few records, under its store path. */
function storeEntry(path: string, lines: number): ZipEntrySpec | undefined {
  const text = readFileSync(path, 'utf8').split('\n').slice(0, lines).join('\n') + '\n';
  const module = /^MODULE \S+ \S+ (\S+) (.+)$/m.exec(text);
  if (!module) return undefined;
  return { name: `${module[2]}/${module[1]}/${module[2]}.sym`, data: text };
}

/** Inputs that start like this are a multipart form (sym_upload's, or a zip as a file part). */
const BOUNDARY = 'fuzzboundary';
const FORM_START = Buffer.from(`--${BOUNDARY}`);

function startsWith(input: Uint8Array, prefix: Uint8Array): boolean {
  return input.length >= prefix.length && prefix.every((b, i) => input[i] === b);
}

function form(parts: { name: string; value: string | Buffer; filename?: string }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n\r\n`), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function seeds(): Uint8Array[] {
  const entries = corpusFiles('.sym', 4 * 1024 * 1024)
    .slice(0, 24)
    .map((p, i) => storeEntry(p, 6 + (i % 5) * 6))
    .filter((e): e is ZipEntrySpec => e !== undefined);
  const one = entries[0] ?? { name: 'a.so/ABCDEF0123456789ABCDEF0123456789A/a.so.sym', data: 'MODULE Linux x86_64 ABCDEF0123456789ABCDEF0123456789A a.so\n' };
  const zips: Buffer[] = [];
  for (let i = 0; i < entries.length; i += 2) {
    zips.push(makeZip([entries[i], ...(entries[i + 1] ? [{ ...entries[i + 1], stored: true }] : [])]));
    zips.push(makeZip([{ ...entries[i], stored: true }]));
  }
  zips.push(
    makeZip([{ name: 'dir/', data: '', stored: true }, { name: '__MACOSX/._x.sym', data: 'x', stored: true }, { name: '.DS_Store', data: 'x', stored: true }, one]),
    makeZip([{ ...one, declaredSize: 10 }]),
    makeZip([{ ...one, stored: true, declaredSize: 1_000_000 }]),
    makeZip([{ name: '../evil.sym', data: String(one.data), stored: true }, { name: 'wrong/PATH/x.sym', data: String(one.data), stored: true }]),
    makeZip([{ name: 'big.sym', data: Buffer.alloc(64 * 1024, 0x41) }]),
  );
  const text = String(one.data);
  const [, os, cpu, id, name] = text.split('\n')[0].split(' ');
  const declared = { os, cpu, debug_file: name, code_file: name, debug_identifier: id };
  zips.push(
    form([...Object.entries(declared).map(([n, value]) => ({ name: n, value })), { name: 'symbol_file', value: text, filename: 'x.sym' }]),
    form([{ name: 'symbols', value: zips[0], filename: 'symbols.zip' }, { name: 'other', value: text, filename: 'a.sym' }]),
  );
  return zips;
}

export const target: FuzzTarget = {
  name: 'zip',
  maxLength: 64 * 1024,
  text: false,
  dictionary: [
    new Uint8Array([0x50, 0x4b, 0x03, 0x04]), // local file header
    new Uint8Array([0x50, 0x4b, 0x01, 0x02]), // central directory header
    new Uint8Array([0x50, 0x4b, 0x05, 0x06]), // end of central directory
    new Uint8Array([0x50, 0x4b, 0x06, 0x06]), // zip64 end of central directory
    new Uint8Array([0x50, 0x4b, 0x06, 0x07]), // zip64 locator
    new Uint8Array([0x50, 0x4b, 0x07, 0x08]), // data descriptor
    new Uint8Array([0x01, 0x00]), // zip64 extra field id
    new Uint8Array([0x75, 0x70]), // Info-ZIP Unicode path extra field id
    new Uint8Array([0x08, 0x00]), // method deflate / flag bit 3
    new Uint8Array([0x00, 0x08]), // UTF-8 flag
    '--fuzzboundary\r\nContent-Disposition: form-data; name="',
    '"; filename="',
    'symbol_file',
    'debug_identifier',
    '\r\n\r\n',
    '.sym',
    '/',
    '\\',
    '../',
    '__MACOSX/',
    'MODULE Linux x86_64 ',
    'FUNC ',
    'STACK CFI INIT ',
  ],
  seeds,
  async execute(input) {
    const dir = join(root, String(execution++ % 4));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    let entries;
    try {
      const isForm = startsWith(input, FORM_START);
      const contentType = isForm ? `multipart/form-data; boundary=${BOUNDARY}` : 'application/zip';
      const received = await receiveUpload({ 'content-type': contentType, 'content-length': String(input.length) }, Readable.from([Buffer.from(input)]), dir, LIMITS);
      entries = received.files.map((f) => ({ file: f.file, size: f.size, name: f.claim.kind === 'path' ? f.claim.path : f.label }));
    } catch (error) {
      if (refusedProperly(error)) return;
      throw error;
    }
    invariant(entries.length <= LIMITS.maxFiles, () => `${entries.length} files staged, limit ${LIMITS.maxFiles}`);
    invariant(entries.reduce((n, e) => n + e.size, 0) <= LIMITS.maxUncompressedBytes, 'more bytes staged than the limit');
    // Only the receiver's own names: the body, form parts, a folder per zip part, staged entries.
    for (const name of readdirSync(dir, { recursive: true }) as string[]) {
      invariant(/^(upload\.zip|part-\d+|(zip-\d+\/)?\d{6}\.sym|zip-\d+)$/.test(name), () => `an unexpected file in the staging folder: ${JSON.stringify(name)}`);
    }
    for (const entry of entries) invariant(entry.file.startsWith(`${dir}/`), () => `${entry.name} staged outside the staging folder`);
    for (const entry of entries) {
      invariant(statSync(entry.file).size === entry.size, () => `${entry.name}: staged ${statSync(entry.file).size} bytes, reported ${entry.size}`);
      try {
        const validated = await validateSymbolFile(entry.file, { kind: 'path', path: entry.name }, entry.name);
        invariant(!validated.storePath.split('/').some((c) => c === '..' || c === '.' || c === ''), () => `validated store path ${validated.storePath}`);
      } catch (error) {
        if (!refusedProperly(error)) throw error;
      }
    }
  },
  close() {
    rmSync(root, { recursive: true, force: true });
  },
};
