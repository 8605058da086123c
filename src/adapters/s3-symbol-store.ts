/**
 * The symbol store in S3-compatible object storage, for deployments where several
 * machines upload and process: object keys are `PREFIX` + the store layout
 * (`DEBUG_FILE/DEBUG_ID/NAME.sym`), so the bucket can also be served directly as a
 * Breakpad symbol server (e.g. behind a CDN) and read by `HttpSymbolSource`.
 *
 * An S3 PUT replaces an object atomically (readers get the old or the new object), so
 * concurrent uploads of the same file cannot corrupt it; no temporary key is needed.
 * Tested against s3rver (a loopback S3 implementation); MinIO and AWS runs are still to do.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

import { symbolStorePath, type SymbolKey, type SymbolStore } from '../ports/symbol-store.js';
import { checkBucket, createS3Client, isNotFound, storeName, type S3StoreOptions } from './s3-client.js';

export type S3SymbolStoreOptions = S3StoreOptions;

/** A health check that hangs is no answer: bounded even when no `timeoutMs` is configured. */
const CHECK_DEADLINE_MS = 10_000;

export class S3SymbolStore implements SymbolStore {
  readonly name: string;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3SymbolStoreOptions) {
    this.prefix = options.prefix ?? '';
    this.name = storeName(options);
    this.client = createS3Client(options);
  }

  /** The object key of `key`'s file, or undefined when its names are unsafe. */
  objectKey(key: SymbolKey): string | undefined {
    const relative = symbolStorePath(key);
    return relative === undefined ? undefined : this.prefix + relative;
  }

  async fetch(key: SymbolKey): Promise<Uint8Array | undefined> {
    const objectKey = this.objectKey(key);
    if (objectKey === undefined) return undefined;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: objectKey }));
      if (!response.Body) return new Uint8Array();
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putFile(key: SymbolKey, localPath: string): Promise<void> {
    const objectKey = this.objectKey(key);
    if (objectKey === undefined) throw new Error(`unsafe symbol file name: ${key.debugFile} ${key.debugId}`);
    const { size } = await stat(localPath);
    // One streamed PUT (up to 5 GB): the file is never held in memory.
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: objectKey,
        Body: createReadStream(localPath),
        ContentLength: size,
        ContentType: 'text/plain; charset=utf-8',
      }),
    );
  }

  async has(key: SymbolKey): Promise<boolean> {
    const objectKey = this.objectKey(key);
    if (objectKey === undefined) return false;
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: objectKey }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async check(): Promise<void> {
    await checkBucket(this.client, this.options, this.options.timeoutMs ?? CHECK_DEADLINE_MS);
  }

  close(): void {
    this.client.destroy();
  }
}
