/**
 * Receives one upload request into a staging folder and says what each staged file
 * claims to be. Three forms are accepted on the same URL:
 *
 * - Breakpad's `sym_upload` (`sym-upload-v1`): `multipart/form-data` with the fields
 *   `code_file`, `debug_file`, `debug_identifier`, `os`, `cpu` and the file in
 *   `symbol_file`. The file must match the declared debug file and id.
 * - A zip of `.sym` files in the store layout, as build systems upload to Tecken: as the
 *   whole body (`application/zip` or `application/octet-stream`), or as a file part of
 *   a multipart form (any field name; recognised by a `.zip` name or the zip signature).
 * - A bare `.sym` as a multipart file part (any other field name): its MODULE line decides.
 *
 * Nothing is stored here: the caller validates every staged file and only then stores.
 */

import busboy from 'busboy';
import { createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { extractZip } from './extract-zip.js';
import { byteLimit, checkDeclaredLength, receiveToFile } from './receive-body.js';
import { quoteName } from './safe-names.js';
import { UploadRefused, type UploadLimits } from './upload-refused.js';
import type { SymbolFileClaim } from './validate-symbol-file.js';

export interface StagedSymbolFile {
  readonly file: string;
  readonly claim: SymbolFileClaim;
  /** How messages name it: a zip entry name or a form field and file name. */
  readonly label: string;
  readonly size: number;
}

export type UploadForm = 'sym-upload-v1' | 'zip' | 'multipart';

export interface ReceivedUpload {
  readonly form: UploadForm;
  readonly files: StagedSymbolFile[];
  /** Bytes of the request body. */
  readonly bodyBytes: number;
}

const ZIP_TYPES = new Set(['application/zip', 'application/x-zip-compressed', 'application/octet-stream']);
const V1_FIELDS = ['code_file', 'debug_file', 'debug_identifier', 'os', 'cpu'] as const;

export async function receiveUpload(
  headers: { 'content-type'?: string; 'content-length'?: string },
  body: Readable,
  stagingDir: string,
  limits: UploadLimits,
): Promise<ReceivedUpload> {
  checkDeclaredLength(headers['content-length'], limits.maxUploadBytes);
  const contentType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (ZIP_TYPES.has(contentType)) {
    const zip = path.join(stagingDir, 'upload.zip');
    const bodyBytes = await receiveToFile(body, zip, limits.maxUploadBytes);
    const entries = await extractZip(zip, stagingDir, limits);
    return { form: 'zip', bodyBytes, files: entries.map((e) => ({ file: e.file, claim: { kind: 'path', path: e.name }, label: e.name, size: e.size })) };
  }
  if (contentType === 'multipart/form-data') return receiveMultipart(headers, body, stagingDir, limits);
  throw new UploadRefused(415, `expected multipart/form-data (sym_upload) or application/zip, got ${quoteName(contentType || 'no Content-Type')}`);
}

/** How long the multipart parser may take to finish once the body has ended. */
const FORM_END_GRACE_MS = 1000;

interface Part {
  field: string;
  filename: string;
  file: string;
  size: number;
}

async function receiveMultipart(headers: { 'content-type'?: string }, body: Readable, stagingDir: string, limits: UploadLimits): Promise<ReceivedUpload> {
  const fields = new Map<string, string>();
  const parts: Part[] = [];
  const writes: Promise<void>[] = [];
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: headers as Record<string, string>,
      limits: { files: limits.maxFiles, fields: 100, fieldSize: 64 * 1024, fileSize: limits.maxUploadBytes },
    });
  } catch (error) {
    throw new UploadRefused(400, `malformed multipart request: ${(error as Error).message}`);
  }
  const bodyLimit = byteLimit(limits.maxUploadBytes, 'the upload');
  let refusal: UploadRefused | undefined;
  parser.on('field', (name, value) => fields.set(name, value));
  parser.on('filesLimit', () => (refusal ??= new UploadRefused(413, `more than ${limits.maxFiles} files in one upload`)));
  const fileStreams: Readable[] = [];
  parser.on('file', (field, stream, info) => {
    fileStreams.push(stream);
    const file = path.join(stagingDir, `part-${parts.length}`);
    const part: Part = { field, filename: info.filename ?? '', file, size: 0 };
    parts.push(part);
    stream.on('data', (chunk: Buffer) => (part.size += chunk.length));
    const write = pipeline(stream, createWriteStream(file, { flags: 'wx' }));
    // When the body fails midway the writes fail too; that error is the body's, reported once.
    write.catch(() => {});
    writes.push(write);
  });
  // busboy 1.6 never finishes a form whose body ends inside a file part that follows the
  // closing delimiter (found by fuzzing): once the body has ended, the parser gets a moment
  // to finish, then is ended with an error, and so is every file part still open.
  body.once('end', () => {
    const stalled = setTimeout(() => parser.destroy(new Error('the form ended inside a part')), FORM_END_GRACE_MS);
    stalled.unref();
    parser.once('close', () => clearTimeout(stalled));
  });
  try {
    await pipeline(body, bodyLimit, parser);
    await Promise.all(writes);
  } catch (error) {
    for (const stream of fileStreams) stream.destroy();
    if (error instanceof UploadRefused) throw error;
    throw new UploadRefused(400, `malformed multipart request: ${(error as Error).message}`);
  }
  if (refusal) throw refusal;
  if (parts.length === 0) throw new UploadRefused(400, 'the upload has no file (sym_upload sends it as "symbol_file")');

  const symbolFile = parts.find((p) => p.field === 'symbol_file');
  if (symbolFile && parts.length === 1 && fields.has('debug_file') && fields.has('debug_identifier')) {
    const missing = V1_FIELDS.filter((f) => !fields.has(f));
    if (missing.length > 0) throw new UploadRefused(400, `sym-upload-v1 field${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`);
    const claim: SymbolFileClaim = { kind: 'declared', debugFile: fields.get('debug_file')!, debugId: fields.get('debug_identifier')! };
    return { form: 'sym-upload-v1', bodyBytes: bodyLimit.bytes(), files: [{ file: symbolFile.file, claim, label: 'symbol_file', size: symbolFile.size }] };
  }

  const files: StagedSymbolFile[] = [];
  let uncompressed = 0;
  for (const part of parts) {
    const label = `${part.field}${part.filename ? ` (${quoteName(part.filename)})` : ''}`;
    if (part.filename.toLowerCase().endsWith('.zip') || (await startsWithZipSignature(part.file))) {
      const dir = path.join(stagingDir, `zip-${files.length}`);
      await mkdir(dir);
      const entries = await extractZip(part.file, dir, { ...limits, maxUncompressedBytes: limits.maxUncompressedBytes - uncompressed, maxFiles: limits.maxFiles - files.length });
      for (const e of entries) {
        uncompressed += e.size;
        files.push({ file: e.file, claim: { kind: 'path', path: e.name }, label: e.name, size: e.size });
      }
    } else {
      files.push({ file: part.file, claim: { kind: 'none' }, label, size: part.size });
    }
  }
  if (files.length > limits.maxFiles) throw new UploadRefused(413, `more than ${limits.maxFiles} files in one upload`);
  return { form: files.some((f) => f.claim.kind === 'path') ? 'zip' : 'multipart', bodyBytes: bodyLimit.bytes(), files };
}

async function startsWithZipSignature(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buffer, 0, 4, 0);
    return bytesRead === 4 && buffer.readUInt32LE(0) === 0x04034b50;
  } finally {
    await handle.close();
  }
}
