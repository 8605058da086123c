import type { Readable } from 'node:stream';

/**
 * The raw crash as the collector stores it: the annotations the client sent (normalised
 * names), the collector's metadata about the submission, and the names of its dumps.
 * Antenna's raw crash, with annotations kept apart from metadata so no annotation can
 * overwrite it.
 */
export interface RawCrash {
  uuid: string;
  /** ISO 8601, UTC. */
  submitted_timestamp: string;
  annotations: Record<string, string>;
  metadata: RawCrashMetadata;
}

export interface RawCrashMetadata {
  /** Things the collector noticed about the submission (e.g. a dump that is not a minidump). */
  collector_notes: string[];
  /** Dump name -> { size, sha256 }. */
  dumps: Record<string, DumpInfo>;
  /** `multipart` with or without gzip, as received. */
  payload: string;
  payload_compressed: boolean;
  user_agent: string;
  throttle_result: 'accept' | 'defer';
  throttle_rule: string;
  /** Annotations holding personal data (URL, Email, comments, ...), for the web app to redact. */
  protected_annotations?: string[];
  /** Canonical annotation name -> the name the client sent its value under (`ProductName: "_productName"`). */
  annotation_sources?: Record<string, string>;
  /** Names sent more than once with different values -> every value, sorted (the smallest is the annotation). */
  duplicate_annotations?: Record<string, string[]>;
  /** Names whose value was not valid UTF-8 -> the bytes as sent, base64. */
  invalid_utf8_annotations?: Record<string, string>;
  /** Bytes of the request body as received (compressed, if it was). */
  payload_size?: number;
}

export interface DumpInfo {
  size: number;
  sha256: string;
}

/** A raw crash being received: dumps are streamed in as they arrive, then committed whole. */
export interface RawCrashWriter {
  /** Streams one dump to storage; rejects when the stream errors or storage fails. */
  addDump(name: string, data: Readable): Promise<DumpInfo>;
  /** Makes the crash visible and durable, atomically: before this returns nothing of it is visible. */
  commit(crash: RawCrash): Promise<void>;
  /** Discards everything written so far. Safe to call after a failure, and more than once. */
  abort(): Promise<void>;
}

export interface RawCrashStore {
  begin(crashId: string): Promise<RawCrashWriter>;
  get(crashId: string): Promise<RawCrash | undefined>;
  getDump(crashId: string, name: string): Promise<Buffer | undefined>;
  /** Crash ids stored on one day (`YYYYMMDD`), for sweepers and reprocessing. */
  listDay(day: string): AsyncIterable<string>;
  /** The days (`YYYYMMDD`) that hold crashes, oldest first, for retention. */
  days(): Promise<string[]>;
  /** Removes these crashes (annotations and dumps); ids not stored are skipped. For retention. */
  delete(crashIds: readonly string[]): Promise<void>;
  /** Throws when the store cannot be read and written (for `/__heartbeat__`). */
  check(): Promise<void>;
  /** Releases connections, for stores that hold any. */
  close?(): void | Promise<void>;
}
