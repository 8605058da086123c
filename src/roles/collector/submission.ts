import busboy from 'busboy';
import { createGunzip } from 'node:zlib';
import { Transform, type Readable } from 'node:stream';
import type { DumpInfo, RawCrashWriter } from '../../ports/raw-crash-store.js';

/**
 * Reads one crash submission (Breakpad/Crashpad `multipart/form-data`) from a request body
 * stream: annotations into memory (bounded), dumps streamed straight into the raw crash
 * writer so that memory does not grow with dump size.
 */

export interface SubmissionLimits {
  /** Largest body, before and after gzip decompression. */
  maxRequestSize: number;
  maxAnnotations: number;
  maxAnnotationSize: number;
  maxDumps: number;
}

export interface ReceivedSubmission {
  annotations: Record<string, string>;
  dumps: Record<string, DumpInfo>;
  notes: string[];
  compressed: boolean;
}

/** A refusal in Antenna's style: the client sees `Discarded=<reason>`. */
export class SubmissionRefused extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const MAIN_DUMP = 'upload_file_minidump';

export async function receiveSubmission(
  headers: { 'content-type'?: string; 'content-encoding'?: string; 'content-length'?: string },
  body: Readable,
  writer: RawCrashWriter,
  limits: SubmissionLimits,
): Promise<ReceivedSubmission> {
  const contentType = headers['content-type'];
  if (!contentType) throw new SubmissionRefused(400, 'malformed_no_content_type', 'the request has no Content-Type');
  if (!/^multipart\/(form-data|mixed)\b/i.test(contentType.trim())) {
    throw new SubmissionRefused(400, 'malformed_wrong_content_type', `expected multipart/form-data, got ${contentType.split(';')[0]}`);
  }
  if (!/;\s*boundary=/i.test(contentType)) throw new SubmissionRefused(400, 'malformed_no_boundary', 'the Content-Type has no boundary');
  const declaredLength = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (declaredLength !== undefined && declaredLength > limits.maxRequestSize) {
    body.resume();
    throw new SubmissionRefused(413, 'too_large', `the body (${declaredLength} bytes) exceeds the limit of ${limits.maxRequestSize} bytes`);
  }

  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  const compressed = encoding === 'gzip' || encoding === 'x-gzip';
  if (encoding !== '' && encoding !== 'identity' && !compressed) {
    body.resume();
    throw new SubmissionRefused(400, 'malformed_bad_encoding', `unsupported Content-Encoding ${encoding}`);
  }

  const annotations: Record<string, string> = {};
  const dumps: Record<string, DumpInfo> = {};
  const notes: string[] = [];
  const pending: Promise<void>[] = [];
  let annotationCount = 0;
  let dumpCount = 0;

  return new Promise<ReceivedSubmission>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      body.unpipe();
      body.resume();
      reject(error);
    };

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { fieldSize: limits.maxAnnotationSize, fields: limits.maxAnnotations, files: limits.maxDumps, parts: limits.maxAnnotations + limits.maxDumps },
      });
    } catch (error) {
      reject(new SubmissionRefused(400, 'malformed_bad_content_type', `bad multipart Content-Type: ${(error as Error).message}`));
      return;
    }

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new SubmissionRefused(413, 'annotation_too_large', `annotation ${name} exceeds ${limits.maxAnnotationSize} bytes`));
      annotationCount++;
      annotations[name] = value;
    });
    parser.on('file', (fieldName, stream) => {
      dumpCount++;
      const name = sanitizeDumpName(fieldName);
      if (name === undefined || dumps[name] !== undefined) {
        stream.resume();
        return fail(new SubmissionRefused(400, 'malformed_bad_dump_name', `invalid or repeated dump name "${fieldName}"`));
      }
      const sniff = signatureSniffer();
      const done = writer.addDump(name, stream.pipe(sniff.tap)).then((info) => {
        dumps[name] = info;
        if (name === MAIN_DUMP && info.size > 0 && !sniff.isMinidump()) notes.push(`${name} is not a minidump (no MDMP signature)`);
        if (info.size === 0) notes.push(`${name} is empty`);
      });
      done.catch(() => undefined);
      pending.push(done);
      stream.on('limit', () => fail(new SubmissionRefused(413, 'too_large', 'a dump exceeds the size limit')));
    });
    parser.on('fieldsLimit', () => fail(new SubmissionRefused(413, 'too_many_annotations', `more than ${limits.maxAnnotations} annotations`)));
    parser.on('filesLimit', () => fail(new SubmissionRefused(413, 'too_many_dumps', `more than ${limits.maxDumps} dumps`)));
    parser.on('partsLimit', () => fail(new SubmissionRefused(413, 'too_many_parts', 'too many multipart parts')));
    parser.on('error', (error: Error) => fail(new SubmissionRefused(400, 'malformed_multipart', `malformed multipart body: ${error.message}`)));
    parser.on('close', () => {
      Promise.all(pending).then(
        () => {
          if (settled) return;
          settled = true;
          if (annotationCount === 0) {
            reject(new SubmissionRefused(400, 'malformed_no_annotations', 'the submission has no annotations'));
            return;
          }
          resolve({ annotations, dumps, notes, compressed });
        },
        (error: Error) => fail(error),
      );
    });

    const counter = byteLimit(limits.maxRequestSize, () => fail(new SubmissionRefused(413, 'too_large', `the body exceeds the limit of ${limits.maxRequestSize} bytes`)));
    body.on('error', (error) => fail(new SubmissionRefused(400, 'malformed_body', `the body could not be read: ${error.message}`)));
    body.on('aborted', () => fail(new SubmissionRefused(400, 'incomplete', 'the client closed the connection before the body ended')));
    if (compressed) {
      const gunzip = createGunzip();
      gunzip.on('error', (error) => fail(new SubmissionRefused(400, 'malformed_bad_gzip', `the gzip body is corrupt: ${error.message}`)));
      const decompressedCounter = byteLimit(limits.maxRequestSize, () =>
        fail(new SubmissionRefused(413, 'too_large', `the decompressed body exceeds the limit of ${limits.maxRequestSize} bytes`)),
      );
      body.pipe(counter).pipe(gunzip).pipe(decompressedCounter).pipe(parser);
    } else {
      body.pipe(counter).pipe(parser);
    }
  });
}

/**
 * Dump names become file names, so they are kept to a safe alphabet. Breakpad's main dump
 * is `upload_file_minidump`; others (`upload_file_minidump_browser`, ...) are kept by name.
 */
export function sanitizeDumpName(fieldName: string): string | undefined {
  const name = fieldName.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 100);
  if (name === '' || name === 'raw_crash' || name === 'dump_names') return undefined;
  return name;
}

function byteLimit(limit: number, onExceeded: () => void): Transform {
  let seen = 0;
  let tripped = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) {
        if (!tripped) {
          tripped = true;
          onExceeded();
        }
        return callback();
      }
      callback(null, chunk);
    },
  });
}

function signatureSniffer(): { tap: Transform; isMinidump: () => boolean } {
  let head = Buffer.alloc(0);
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
      callback(null, chunk);
    },
  });
  return { tap, isMinidump: () => head.toString('latin1') === 'MDMP' };
}
