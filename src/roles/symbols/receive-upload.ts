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

import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { MultipartMalformed, readMultipart } from '../../common/multipart.js';
import { parseMultipartType } from '../../common/multipart-type.js';
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
  /** The form's text fields (none for a bare zip body), e.g. `reprocess`. */
  readonly fields: ReadonlyMap<string, string>;
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
    return { form: 'zip', bodyBytes, fields: new Map(), files: entries.map((e) => ({ file: e.file, claim: { kind: 'path', path: e.name }, label: e.name, size: e.size })) };
  }
  if (contentType === 'multipart/form-data') return receiveMultipart(headers, body, stagingDir, limits);
  throw new UploadRefused(415, `expected multipart/form-data (sym_upload) or application/zip, got ${quoteName(contentType || 'no Content-Type')}`);
}

/** Form fields (the parts without a file name) of one upload: as many and as long as sym_upload needs, with room. */
const MAX_FIELDS = 100;
const MAX_FIELD_BYTES = 64 * 1024;
const STORAGE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE']);

interface Part {
  field: string;
  filename: string;
  file: string;
  size: number;
}

/** A form field being read: its name and the bytes so far. */
interface OpenField {
  name: string;
  chunks: Buffer[];
  bytes: number;
}

/**
 * Reads the form with the collector's streaming multipart reader (`common/multipart.ts`,
 * fuzzed with every submission): file parts go to staging files as they arrive, with the
 * disk's pace as back-pressure; fields are kept in memory, bounded. A body that ends before
 * the closing delimiter is refused (a cut upload must not store a cut file), and what
 * follows the closing delimiter is ignored, so no form can leave the request waiting.
 */
async function receiveMultipart(headers: { 'content-type'?: string }, body: Readable, stagingDir: string, limits: UploadLimits): Promise<ReceivedUpload> {
  const fields = new Map<string, string>();
  const parts: Part[] = [];
  const bodyLimit = byteLimit(limits.maxUploadBytes, 'the upload');
  let output: FileHandle | undefined;
  let fieldCount = 0;
  // The form's own error: stopping the reading mid-body makes pipeline report the abort
  // of the body instead of the cause.
  let cause: unknown;
  try {
    const { boundary } = parseMultipartType(headers['content-type']);
    const readForm = async (source: AsyncIterable<Buffer>): Promise<void> => {
      let part: Part | undefined;
      let field: OpenField | undefined;
      for await (const event of readMultipart(source, boundary)) {
        switch (event.kind) {
          case 'part': {
            const { name = '', filename, contentType } = event.part;
            if (filename !== undefined || contentType === 'application/octet-stream') {
              if (parts.length >= limits.maxFiles) throw new UploadRefused(413, `more than ${limits.maxFiles} files in one upload`);
              part = { field: name, filename: filename ?? '', file: path.join(stagingDir, `part-${parts.length}`), size: 0 };
              parts.push(part);
              output = await open(part.file, 'wx');
            } else {
              if (++fieldCount > MAX_FIELDS) throw new UploadRefused(413, `more than ${MAX_FIELDS} form fields in one upload`);
              field = { name, chunks: [], bytes: 0 };
            }
            break;
          }
          case 'data':
            if (part && output) {
              part.size += event.chunk.length;
              await output.write(event.chunk);
            } else if (field) {
              field.bytes += event.chunk.length;
              if (field.bytes > MAX_FIELD_BYTES) throw new UploadRefused(413, `form field ${quoteName(field.name)} is longer than ${MAX_FIELD_BYTES} bytes`);
              // A copy: the reader may hand out views of a buffer it goes on using.
              field.chunks.push(Buffer.from(event.chunk));
            }
            break;
          case 'end':
            if (output) {
              await output.close();
              output = undefined;
            }
            if (field) fields.set(field.name, Buffer.concat(field.chunks).toString('utf8'));
            part = undefined;
            field = undefined;
            break;
          case 'unterminated':
            throw new UploadRefused(400, 'malformed multipart request: the body ended before the closing delimiter (a cut upload)');
        }
      }
    };
    await pipeline(body, bodyLimit, async (source: AsyncIterable<Buffer>) => {
      try {
        await readForm(source);
      } catch (error) {
        cause ??= error;
        throw error;
      }
    });
  } catch (thrown) {
    const error = cause ?? thrown;
    await output?.close().catch(() => undefined);
    if (error instanceof UploadRefused) throw error;
    if (error instanceof MultipartMalformed) throw new UploadRefused(400, `malformed multipart request: ${error.message}`);
    // The staging disk failing is the server's fault; anything else broke the body midway.
    if (STORAGE_ERRORS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    throw new UploadRefused(400, `malformed multipart request: ${(error as Error).message}`);
  }
  if (parts.length === 0) throw new UploadRefused(400, 'the upload has no file (sym_upload sends it as "symbol_file")');

  const symbolFile = parts.find((p) => p.field === 'symbol_file');
  if (symbolFile && parts.length === 1 && fields.has('debug_file') && fields.has('debug_identifier')) {
    const missing = V1_FIELDS.filter((f) => !fields.has(f));
    if (missing.length > 0) throw new UploadRefused(400, `sym-upload-v1 field${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`);
    const claim: SymbolFileClaim = { kind: 'declared', debugFile: fields.get('debug_file')!, debugId: fields.get('debug_identifier')! };
    return { form: 'sym-upload-v1', bodyBytes: bodyLimit.bytes(), fields, files: [{ file: symbolFile.file, claim, label: 'symbol_file', size: symbolFile.size }] };
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
  return { form: files.some((f) => f.claim.kind === 'path') ? 'zip' : 'multipart', bodyBytes: bodyLimit.bytes(), fields, files };
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
