import { Readable } from 'node:stream';
import { createCrashId, THROTTLE_ACCEPT, THROTTLE_DEFER } from '../../common/crash-id.js';
import type { DumpInfo, RawCrash, RawCrashStore, RawCrashWriter } from '../../ports/raw-crash-store.js';
import { AnnotationCollector } from './annotations.js';
import { checkFraming, guardPace, gunzip, limitBytes } from './body.js';
import { parseMultipartType, type MultipartType } from '../../common/multipart-type.js';
import { DumpSink } from './dump-sink.js';
import { MAIN_DUMP, sanitizeDumpName } from './dump-names.js';
import { normaliseFieldNames } from './field-names.js';
import { MAX_STORED_JSON, jsonLengthBound } from './json-size.js';
import { MultipartMalformed, readMultipart, type PartHeaders } from '../../common/multipart.js';
import { boundedNotes } from './notes.js';
import { protectedAnnotationNames } from './protected-annotations.js';
import type { FieldCatalog } from '../../schema/field-catalog.js';
import { SubmissionRefused, malformed, tooLarge } from './refusal.js';
import { sampleDraws, type SampleDraw, type ThrottleDecision, type Throttler } from './throttler.js';

/**
 * Receives one crash submission, streaming: annotations into memory (bounded), dumps
 * straight into the raw crash store (memory does not grow with dump size), then the
 * throttle decision and the commit. What the client sees is decided by the caller.
 *
 * The crash id carries the throttle result digit, and the store needs the id before the
 * first dump byte is written. So the writer is begun when the first dump part starts, with
 * the decision on the annotations received so far (real clients send every annotation
 * before their dumps, so this is the final one). The final decision is made at the end on
 * all annotations, so the order of parts never changes it; if it differs in its digit (a
 * client sent annotations after a dump that changed the outcome), the crash is stored
 * again under the right id and the provisional copy is kept as `superseded` (deferred,
 * never queued), since the store cannot rename a crash.
 */

export interface SubmissionLimits {
  /** Largest body, before and after gzip decompression. */
  maxRequestSize: number;
  maxAnnotations: number;
  maxAnnotationSize: number;
  maxDumps: number;
  /**
   * Most multipart parts, of any kind. Default: every annotation twice (clients that
   * repeat a field), every dump, and `extra`. Without it, empty parts (a few bytes each,
   * far fewer gzipped) would cost work and notes without end.
   */
  maxParts?: number;
  /** Longest silence from the client while its body is read. */
  bodyTimeoutMs: number;
  /** Lowest average rate of the body, in bytes per second (as sent), after `minRateGraceMs`; 0 or absent for none. */
  minRateBytesPerSecond?: number;
  minRateGraceMs?: number;
  /** Longest time to receive a whole body; absent for none. */
  deadlineMs?: number;
  /** Longest JSON text of a raw crash (its annotations and metadata); default `MAX_STORED_JSON`. */
  maxStoredJson?: number;
}

export function maxPartsOf(limits: SubmissionLimits): number {
  return limits.maxParts ?? 2 * limits.maxAnnotations + limits.maxDumps + 1;
}

export interface SubmissionRequest {
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  submittedAt: Date;
}

export interface SubmissionContext {
  store: RawCrashStore;
  throttler: Throttler;
  limits: SubmissionLimits;
  /** Called with each chunk's size as it is received (metrics). */
  onBytes?: (n: number) => void;
  /** For tests: the sampling draws. */
  draw?: SampleDraw;
  /** The node's fields, whose protected annotations are listed in the raw crash (default: built-in only). */
  fields?: FieldCatalog;
}

export type SubmissionOutcome =
  | { outcome: 'rejected'; decision: ThrottleDecision }
  | { outcome: 'stored'; decision: ThrottleDecision; crash: RawCrash; bodyEndedAt: number };

/** Storage failed (500): the client may retry. */
export class StorageFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(`storage failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StorageFailed';
  }
}

/** Whether a part is a dump: it has a file name, is binary, or has a Breakpad dump field name. */
function isDumpPart(part: PartHeaders): boolean {
  return part.filename !== undefined || part.contentType === 'application/octet-stream' || (part.name ?? '').startsWith('upload_file_');
}

function header(headers: SubmissionRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export async function receiveSubmission(request: SubmissionRequest, context: SubmissionContext): Promise<SubmissionOutcome> {
  const { limits, store, throttler } = context;
  let type: MultipartType;
  try {
    type = parseMultipartType(header(request.headers, 'content-type'));
  } catch (error) {
    throw error instanceof MultipartMalformed ? malformed(error.what, error.message) : error;
  }
  const framing = checkFraming(
    { 'content-length': header(request.headers, 'content-length'), 'content-encoding': header(request.headers, 'content-encoding'), 'transfer-encoding': header(request.headers, 'transfer-encoding') },
    limits.maxRequestSize,
  );

  let payloadSize = 0;
  let body: AsyncIterable<Buffer> = limitBytes(
    guardPace(request.body, { idleMs: limits.bodyTimeoutMs, minRate: limits.minRateBytesPerSecond, graceMs: limits.minRateGraceMs, deadlineMs: limits.deadlineMs }),
    limits.maxRequestSize,
    () => tooLarge('too_large', `the body exceeds the limit of ${limits.maxRequestSize} bytes`),
    (n) => {
      payloadSize += n;
      context.onBytes?.(n);
    },
  );
  if (framing.compressed) {
    body = limitBytes(gunzip(body), limits.maxRequestSize, () => tooLarge('too_large', `the decompressed body exceeds the limit of ${limits.maxRequestSize} bytes`));
  }

  const annotations = new AnnotationCollector(limits);
  const draw = context.draw ?? sampleDraws();
  const notes: string[] = [];
  const dumps: Record<string, DumpInfo> = {};
  const notMinidumps: string[] = [];
  let crashId: string | undefined;
  let writer: RawCrashWriter | undefined;
  let sink: DumpSink | undefined;
  let field: { name: string; chunks: Buffer[]; size: number; extra: boolean } | undefined;
  let skipping = false;
  let dumpParts = 0;
  let parts = 0;
  const maxParts = maxPartsOf(limits);

  const begin = async (digit: number): Promise<void> => {
    crashId = createCrashId(request.submittedAt, digit);
    try {
      writer = await store.begin(crashId);
    } catch (error) {
      throw new StorageFailed(error);
    }
  };
  const provisionalDigit = (): number => {
    const { annotations: current } = normaliseFieldNames(annotations.finish().annotations);
    return throttler.decide(current, draw).result === 'defer' ? THROTTLE_DEFER : THROTTLE_ACCEPT;
  };

  try {
    for await (const event of readMultipart(body, type.boundary)) {
      switch (event.kind) {
        case 'part': {
          const { part } = event;
          skipping = false;
          if (++parts > maxParts) throw tooLarge('too_many_parts', `more than ${maxParts} parts`);
          if (part.name === 'extra' || (part.name === undefined && part.filename === 'extra.json')) {
            field = { name: 'extra', chunks: [], size: 0, extra: true };
          } else if (isDumpPart(part)) {
            const name = part.name === undefined ? undefined : sanitizeDumpName(part.name);
            if (name === undefined) throw malformed('bad_dump_name', `invalid or reserved dump name "${part.name ?? ''}"`);
            if (dumps[name] !== undefined || sink?.name === name) throw malformed('duplicate_dump', `the dump ${name} is sent twice`);
            if (++dumpParts > limits.maxDumps) throw tooLarge('too_many_dumps', `more than ${limits.maxDumps} dumps`);
            if (!writer) await begin(provisionalDigit());
            sink = new DumpSink(name, writer!);
          } else if (part.name === undefined || part.name === '') {
            annotations.ignoreNamelessPart();
            skipping = true;
          } else {
            field = { name: part.name, chunks: [], size: 0, extra: false };
          }
          break;
        }
        case 'data':
          if (sink) await sink.write(event.chunk);
          else if (field) {
            field.size += event.chunk.length;
            annotations.checkSize(field.name, field.size);
            field.chunks.push(Buffer.from(event.chunk));
          } else if (!skipping) throw malformed('multipart', 'data outside a part');
          break;
        case 'end':
          if (sink) {
            const current = sink;
            sink = undefined;
            let info: DumpInfo;
            try {
              info = await current.end();
            } catch (error) {
              throw new StorageFailed(error);
            }
            dumps[current.name] = info;
            if (info.size === 0) notes.push(`${current.name} is empty`);
            else if (!current.isMinidump) notMinidumps.push(current.name);
          } else if (field) {
            const value = Buffer.concat(field.chunks, field.size);
            if (field.extra) annotations.addExtra(value);
            else annotations.addField(field.name, value);
            field = undefined;
          }
          break;
        case 'unterminated':
          notes.push('the multipart body has no closing delimiter');
          break;
      }
    }
  } catch (error) {
    await sink?.cancel();
    await writer?.abort().catch(() => undefined);
    if (error instanceof SubmissionRefused) throw error;
    if (error instanceof MultipartMalformed) throw malformed(error.what, error.message);
    if (error instanceof StorageFailed) throw error;
    // Anything else came from a dump write: storage failed under us.
    if (sink !== undefined || writer !== undefined) throw new StorageFailed(error);
    throw error;
  }
  const bodyEndedAt = performance.now();

  const abortAndThrow = async (error: Error): Promise<never> => {
    await writer?.abort().catch(() => undefined);
    throw error;
  };
  if (payloadSize === 0) return abortAndThrow(malformed('empty_body', 'the request body is empty'));
  if (annotations.count === 0) return abortAndThrow(malformed('no_annotations', 'the submission has no annotations'));

  const collected = annotations.finish();
  const normalised = normaliseFieldNames(collected.annotations);
  const decision = throttler.decide(normalised.annotations, draw);
  if (decision.result === 'reject') {
    await writer?.abort().catch(() => undefined);
    return { outcome: 'rejected', decision };
  }

  const digit = decision.result === 'defer' ? THROTTLE_DEFER : THROTTLE_ACCEPT;
  for (const name of notMinidumps) notes.push(`${name} is not a minidump (no MDMP signature)`);
  if (!dumps[MAIN_DUMP]) notes.push(`no ${MAIN_DUMP} in the submission`);

  const crashFor = (id: string, result: ThrottleDecision, extraNotes: string[] = []): RawCrash => ({
    uuid: id,
    submitted_timestamp: request.submittedAt.toISOString(),
    annotations: normalised.annotations,
    metadata: {
      collector_notes: boundedNotes([...collected.notes, ...notes, ...extraNotes]),
      dumps,
      payload: 'multipart',
      payload_compressed: framing.compressed,
      payload_size: payloadSize,
      user_agent: header(request.headers, 'user-agent') ?? '',
      throttle_result: result.result === 'defer' ? 'defer' : 'accept',
      throttle_rule: result.rule,
      protected_annotations: protectedAnnotationNames(normalised.annotations, context.fields),
      annotation_sources: normalised.sources,
      ...(Object.keys(collected.duplicates).length > 0 ? { duplicate_annotations: collected.duplicates } : {}),
      ...(Object.keys(collected.invalidUtf8).length > 0 ? { invalid_utf8_annotations: collected.invalidUtf8 } : {}),
    },
  });

  // The trailer must be writable whatever was sent: refused here, never a storage failure.
  const maxStoredJson = limits.maxStoredJson ?? MAX_STORED_JSON;
  if (jsonLengthBound(crashFor('', decision)) > maxStoredJson) {
    return abortAndThrow(tooLarge('too_large', `the annotations are too large to store (over ${maxStoredJson} characters as JSON)`));
  }

  let crash: RawCrash;
  try {
    if (!writer) await begin(digit);
    else if (Number(crashId!.at(-7)) !== digit) await restoreUnderNewId(digit);
    crash = crashFor(crashId!, decision);
    await writer!.commit(crash);
  } catch (error) {
    await writer?.abort().catch(() => undefined);
    if (error instanceof StorageFailed) throw error;
    throw new StorageFailed(error);
  }
  return { outcome: 'stored', decision, crash, bodyEndedAt };

  /** The store cannot rename a crash: commit the provisional copy as superseded, copy its dumps. */
  async function restoreUnderNewId(finalDigit: number): Promise<void> {
    const provisionalId = crashId!;
    const provisionalWriter = writer!;
    await begin(finalDigit);
    const note = `superseded by ${crashId!}: annotations sent after a dump changed the throttle result`;
    await provisionalWriter.commit(crashFor(provisionalId, { result: 'defer', rule: 'superseded' }, [note]));
    for (const name of Object.keys(dumps)) {
      const data = await store.getDump(provisionalId, name);
      if (data === undefined) throw new Error(`dump ${name} of ${provisionalId} cannot be read back`);
      dumps[name] = await writer!.addDump(name, Readable.from([data]));
    }
  }
}
