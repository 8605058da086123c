/**
 * Raw crashes in S3-compatible object storage, laid out as Antenna lays them out for
 * Socorro, under a configurable prefix:
 *
 * - `v1/<dump name>/<crash id>`: each dump, under the name the collector gave it
 *   (`upload_file_minidump` for the main one);
 * - `v1/dump_names/<crash id>`: the JSON list of those names;
 * - `v1/raw_crash/<YYYYMMDD>/<crash id>`: the raw crash JSON, the day taken from the id.
 *
 * S3 has no rename and no transaction, so the raw crash is the commit record: it is written
 * last, and nothing of a crash counts as stored without it (`get`, `getDump` and `listDay`
 * all go through it). A crash whose commit never happened leaves dumps without a raw crash;
 * `abort` deletes them, and a bucket lifecycle rule can expire what a dead process left.
 *
 * Dumps are streamed with `@aws-sdk/lib-storage`: up to one part (5 MiB) in memory, a
 * single PUT below that, a multipart upload above it, one part in flight at a time so that
 * memory per dump stays bounded and a slow store slows the client down (backpressure).
 * Every request is retried by the SDK; a part is a buffer, so a retry can resend it.
 */

import { createHash, type Hash } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { partitionOfCrashId } from '../common/crash-id.js';
import type { DumpInfo, RawCrash, RawCrashStore, RawCrashWriter } from '../ports/raw-crash-store.js';
import { checkBucket, checkedCrashId, createS3Client, CRASH_STORE_TUNING, deleteKeys, eachLimited, isNotFound, storeName, type S3StoreOptions } from './s3-client.js';

export type S3RawCrashStoreOptions = S3StoreOptions;

/** S3's minimum part size: the most a dump holds in memory before it is sent. */
const PART_SIZE = 5 * 1024 * 1024;

/** Names under `v1/` that are not dumps: a dump named like them would overwrite them. */
const RESERVED_NAMES = new Set(['raw_crash', 'dump_names', 'processed_crash']);

export class S3RawCrashStore implements RawCrashStore {
  readonly name: string;
  private readonly client: S3Client;
  private readonly root: string;

  /** `internal.listPageSize` is for tests, to go through several pages without a thousand crashes. */
  constructor(
    private readonly options: S3RawCrashStoreOptions,
    private readonly internal: { readonly listPageSize?: number } = {},
  ) {
    this.name = storeName(options);
    this.root = `${options.prefix ?? ''}v1/`;
    this.client = createS3Client(options, CRASH_STORE_TUNING);
  }

  async begin(crashId: string): Promise<RawCrashWriter> {
    return new S3RawCrashWriter(this, checkedCrashId(crashId));
  }

  async get(crashId: string): Promise<RawCrash | undefined> {
    const bytes = await this.read(this.rawCrashKey(crashId));
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as RawCrash);
  }

  async getDump(crashId: string, name: string): Promise<Buffer | undefined> {
    if (!isSafeDumpName(name)) return undefined;
    // A dump is written before its crash is committed (or while it is being aborted): it
    // exists only once the raw crash does.
    if (!(await this.exists(this.rawCrashKey(crashId)))) return undefined;
    return this.read(this.dumpKey(crashId, name));
  }

  /**
   * Pages with `StartAfter` (the last key seen) rather than continuation tokens: the same
   * listing on S3, with nothing server-made to carry between pages (s3rver's own tokens,
   * for one, need DES, which OpenSSL 3 only has as a legacy provider).
   */
  async *listDay(day: string): AsyncIterable<string> {
    if (!/^\d{8}$/.test(day)) return;
    const prefix = `${this.root}raw_crash/${day}/`;
    let after: string | undefined;
    for (;;) {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, StartAfter: after, MaxKeys: this.internal.listPageSize }));
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key]));
      for (const key of keys) {
        const crashId = key.slice(prefix.length);
        if (/^[0-9a-f-]{36}$/.test(crashId)) yield crashId;
      }
      if (!page.IsTruncated || keys.length === 0) return;
      after = keys[keys.length - 1];
    }
  }

  /** The days under `raw_crash/`, from the listing's common prefixes. */
  async days(): Promise<string[]> {
    const prefix = `${this.root}raw_crash/`;
    const days: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, Delimiter: '/', StartAfter: after, MaxKeys: this.internal.listPageSize }));
      const found = (page.CommonPrefixes ?? []).flatMap((p) => (p.Prefix === undefined ? [] : [p.Prefix]));
      for (const dayPrefix of found) {
        const day = dayPrefix.slice(prefix.length, -1);
        if (/^\d{8}$/.test(day)) days.push(day);
      }
      if (!page.IsTruncated || found.length === 0) return [...new Set(days)].sort();
      // Past every key of the last day seen.
      after = `${found[found.length - 1]}\uffff`;
    }
  }

  /**
   * The raw crash (the commit record) goes with its dumps and their list in one request;
   * the dump names are read first, since they are only known from that list.
   */
  async delete(crashIds: readonly string[]): Promise<void> {
    const keys: string[] = [];
    await eachLimited(crashIds, 16, async (crashId) => {
      const names = await this.read(this.dumpNamesKey(crashId));
      const dumps = names === undefined ? [] : (JSON.parse(names.toString('utf8')) as unknown[]).filter((n): n is string => typeof n === 'string' && isSafeDumpName(n));
      keys.push(this.rawCrashKey(crashId), this.dumpNamesKey(crashId), ...dumps.map((name) => this.dumpKey(crashId, name)));
    });
    await deleteKeys(this.client, this.options.bucket, keys);
  }

  /** Whether the bucket answers; not a write, as Antenna's own check (a heartbeat per node must stay cheap). */
  async check(): Promise<void> {
    await checkBucket(this.client, this.options, this.options.timeoutMs ?? CRASH_STORE_TUNING.defaultTimeoutMs);
  }

  close(): void {
    this.client.destroy();
  }

  rawCrashKey(crashId: string): string {
    return `${this.root}raw_crash/${partitionOfCrashId(checkedCrashId(crashId))}/${crashId}`;
  }

  dumpNamesKey(crashId: string): string {
    return `${this.root}dump_names/${checkedCrashId(crashId)}`;
  }

  dumpKey(crashId: string, name: string): string {
    if (!isSafeDumpName(name)) throw new Error(`unsafe dump name: ${name}`);
    return `${this.root}${name}/${checkedCrashId(crashId)}`;
  }

  /** @internal For the writer. */
  async put(key: string, body: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  }

  /** @internal For the writer: streams a dump to `key` (see the file's comment). */
  upload(key: string, body: Readable): Promise<unknown> {
    return new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: key, Body: body, ContentType: 'application/octet-stream' },
      partSize: PART_SIZE,
      queueSize: 1,
    }).done();
  }

  /** @internal For the writer. Deleting a missing key succeeds in S3, so this is idempotent. */
  async deleteKey(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }

  private async read(key: string): Promise<Buffer | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return response.Body ? Buffer.from(await response.Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}

interface PendingDump {
  readonly meter: DumpMeter;
  /** Settles once no request for this dump is in flight any more. */
  readonly done: Promise<DumpInfo>;
  settled: boolean;
}

class S3RawCrashWriter implements RawCrashWriter {
  /** Names in the order they were handed in, as `dump_names` lists them. */
  private readonly dumps = new Map<string, PendingDump>();
  private state: 'open' | 'committing' | 'committed' | 'failed' | 'aborted' = 'open';
  /** Whether the raw crash may have been written (a failed PUT may still have landed). */
  private rawCrashTried = false;
  private committing: Promise<void> | undefined;

  constructor(
    private readonly store: S3RawCrashStore,
    private readonly crashId: string,
  ) {}

  addDump(name: string, data: Readable): Promise<DumpInfo> {
    if (!isSafeDumpName(name)) return Promise.reject(new Error(`unsafe dump name: ${name}`));
    if (this.state !== 'open') return Promise.reject(new Error('raw crash already committed or aborted'));
    if (this.dumps.has(name)) return Promise.reject(new Error(`dump ${name} was already added`));
    const meter = new DumpMeter();
    // The source's error reaches the upload through the meter; destroying the meter (abort)
    // lets go of the source.
    pipeline(data, meter, () => undefined);
    const pending: PendingDump = {
      meter,
      done: this.store.upload(this.store.dumpKey(this.crashId, name), meter).then(
        () => {
          pending.settled = true;
          return meter.info();
        },
        (error: unknown) => {
          pending.settled = true;
          // The stream's own failure says more than the upload's (or its clean-up's) answer to it.
          const failure = meter.failure ?? error;
          // Storage failed under a healthy stream: let go of the client's upload too.
          meter.destroy();
          throw failure;
        },
      ),
      settled: false,
    };
    this.dumps.set(name, pending);
    return pending.done;
  }

  commit(crash: RawCrash): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error('raw crash already committed or aborted'));
    this.state = 'committing';
    this.committing = this.write(crash).then(
      () => {
        this.state = 'committed';
      },
      (error: unknown) => {
        // Left to abort(), which the port says is safe after a failure.
        this.state = 'failed';
        throw error;
      },
    );
    return this.committing;
  }

  private async write(crash: RawCrash): Promise<void> {
    const names: string[] = [];
    for (const [name, dump] of this.dumps) {
      try {
        await dump.done;
      } catch (error) {
        throw new Error(`dump ${name} of ${this.crashId} was not stored, so the crash cannot be committed`, { cause: error });
      }
      names.push(name);
    }
    await this.store.put(this.store.dumpNamesKey(this.crashId), JSON.stringify(names));
    // Last: its presence is what makes the crash exist.
    this.rawCrashTried = true;
    await this.store.put(this.store.rawCrashKey(this.crashId), JSON.stringify(crash));
  }

  /**
   * Stops the dumps still streaming in (a stalled client must not hold the abort), waits
   * until none of their requests is in flight (a late PUT would land after the deletes),
   * then deletes every key the crash may have written, the raw crash first so that the
   * crash stops existing before its parts go. A committed crash is left alone.
   */
  async abort(): Promise<void> {
    if (this.committing) await this.committing.catch(() => undefined);
    if (this.state === 'committed') return;
    this.state = 'aborted';
    for (const dump of this.dumps.values()) if (!dump.settled) dump.meter.destroy(new Error('raw crash aborted'));
    await Promise.allSettled([...this.dumps.values()].map((dump) => dump.done));
    if (this.rawCrashTried) await this.store.deleteKey(this.store.rawCrashKey(this.crashId));
    await Promise.all([
      this.store.deleteKey(this.store.dumpNamesKey(this.crashId)),
      ...[...this.dumps.keys()].map((name) => this.store.deleteKey(this.store.dumpKey(this.crashId, name))),
    ]);
  }
}

/** Passes a dump through, counting and hashing it on the way (DumpInfo without a second read). */
class DumpMeter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  /** Not `size`: lib-storage takes a body's `size` (or `length`) for its total length. */
  private bytes = 0;
  private digest: string | undefined;
  failure: Error | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) this.failure ??= error;
    callback(error);
  }

  info(): DumpInfo {
    if (this.digest === undefined) throw new Error('dump stream ended without being read to its end');
    return { size: this.bytes, sha256: this.digest };
  }
}

/** Dump names become key components: the collector sanitises them, this is the store's own last line of defence. */
function isSafeDumpName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name) && !name.includes('..') && !RESERVED_NAMES.has(name);
}
