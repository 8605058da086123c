/**
 * Processed crashes in S3-compatible object storage, at Socorro's key
 * `PREFIX v1/processed_crash/<crash id>` (JSON). One PUT replaces an object whole (readers
 * see the old or the new document), which is all the atomicity reprocessing needs.
 */

import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ProcessedCrash, ProcessedCrashStore } from '../ports/processed-crash-store.js';
import { checkBucket, checkedCrashId, createS3Client, CRASH_STORE_TUNING, deleteKeys, isNotFound, storeName, type S3StoreOptions } from './s3-client.js';

export type S3ProcessedCrashStoreOptions = S3StoreOptions;

export class S3ProcessedCrashStore implements ProcessedCrashStore {
  readonly name: string;
  private readonly client: S3Client;

  constructor(private readonly options: S3ProcessedCrashStoreOptions) {
    this.name = storeName(options);
    this.client = createS3Client(options, CRASH_STORE_TUNING);
  }

  key(crashId: string): string {
    return `${this.options.prefix ?? ''}v1/processed_crash/${checkedCrashId(crashId)}`;
  }

  async save(crash: ProcessedCrash): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.key(crash.uuid), Body: JSON.stringify(crash), ContentType: 'application/json' }));
  }

  async get(crashId: string): Promise<ProcessedCrash | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(crashId) }));
      if (!response.Body) throw new Error(`processed crash ${crashId} has no body`);
      return JSON.parse(await response.Body.transformToString('utf8')) as ProcessedCrash;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async exists(crashId: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(crashId) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async delete(crashIds: readonly string[]): Promise<void> {
    await deleteKeys(this.client, this.options.bucket, crashIds.map((id) => this.key(id)));
  }

  async check(): Promise<void> {
    await checkBucket(this.client, this.options, this.options.timeoutMs ?? CRASH_STORE_TUNING.defaultTimeoutMs);
  }

  close(): void {
    this.client.destroy();
  }
}
