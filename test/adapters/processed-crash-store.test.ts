import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { FsProcessedCrashStore } from '../../src/adapters/fs-processed-crash-store.js';
import { createS3Client } from '../../src/adapters/s3-client.js';
import { S3ProcessedCrashStore } from '../../src/adapters/s3-processed-crash-store.js';
import { createCrashId } from '../../src/common/crash-id.js';
import { processedCrashStoreContract } from './processed-crash-store.contract.js';
import { startBlackhole, startFlakyProxy, startS3rver, type LocalS3 } from './s3rver-support.js';

processedCrashStoreContract('filesystem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-processed-contract-'));
  const root = join(dir, 'processed');
  const store = await FsProcessedCrashStore.open(root);
  return {
    store,
    missing: async () => {
      const gone = join(dir, 'gone');
      const missing = await FsProcessedCrashStore.open(gone);
      rmSync(gone, { recursive: true, force: true });
      return missing;
    },
    takeDown: async () => rmSync(root, { recursive: true, force: true }),
    checkErrors: { missing: /ENOENT/, down: /ENOENT/ },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

const PREFIX = 'mayday/';

processedCrashStoreContract('S3 (s3rver)', async () => {
  const s3 = await startS3rver();
  const store = new S3ProcessedCrashStore({ ...s3.options, prefix: PREFIX, timeoutMs: 5_000 });
  const others: S3ProcessedCrashStore[] = [];
  return {
    store,
    missing: async () => {
      const missing = new S3ProcessedCrashStore({ ...s3.options, bucket: 'no-such-bucket', prefix: PREFIX, timeoutMs: 5_000 });
      others.push(missing);
      return missing;
    },
    takeDown: () => s3.stop(),
    checkErrors: { missing: /bucket no-such-bucket does not exist/, down: /unavailable: cannot connect to http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/ },
    dispose: async () => {
      for (const client of [store, ...others]) client.close();
      await s3.dispose();
    },
  };
});

describe('S3 processed crash store, beyond the contract', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function local(): Promise<LocalS3> {
    const s3 = await startS3rver();
    cleanups.push(() => s3.dispose());
    return s3;
  }
  function storeOn(s3: LocalS3, extra: { endpoint?: string; timeoutMs?: number } = {}): S3ProcessedCrashStore {
    const store = new S3ProcessedCrashStore({ ...s3.options, prefix: PREFIX, timeoutMs: 5_000, ...extra });
    cleanups.push(() => store.close());
    return store;
  }

  it("stores a processed crash at Socorro's key, as JSON", async () => {
    const s3 = await local();
    const id = createCrashId();
    await storeOn(s3).save({ uuid: id, signature: 'x' });
    const client = createS3Client(s3.options);
    try {
      const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
      expect((page.Contents ?? []).map((object) => object.Key)).toEqual([`${PREFIX}v1/processed_crash/${id}`]);
    } finally {
      client.destroy();
    }
  });

  it('retries a refused save (500 InternalError) up to five attempts', async () => {
    const s3 = await local();
    const flaky = await startFlakyProxy(s3.endpoint, 4);
    cleanups.push(() => flaky.close());
    const id = createCrashId();
    await storeOn(s3, { endpoint: flaky.endpoint }).save({ uuid: id, signature: 'retried' });
    expect(flaky.requests()).toBe(5);
    expect((await storeOn(s3).get(id))?.signature).toBe('retried');
    const worse = await startFlakyProxy(s3.endpoint, 5);
    cleanups.push(() => worse.close());
    await expect(storeOn(s3, { endpoint: worse.endpoint }).save({ uuid: createCrashId(), signature: 'lost' })).rejects.toThrow(/internal error/);
    expect(worse.requests()).toBe(5);
  });

  it('gives up on a server that never answers, instead of hanging', async () => {
    const s3 = await local();
    const hole = await startBlackhole();
    cleanups.push(() => hole.close());
    const store = storeOn(s3, { endpoint: hole.endpoint, timeoutMs: 300 });
    let started = Date.now();
    await expect(store.check()).rejects.toThrow(/no answer from .* within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);
    started = Date.now();
    await expect(store.save({ uuid: createCrashId() })).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);
});
