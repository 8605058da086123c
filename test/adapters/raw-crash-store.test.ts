import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { FsRawCrashStore } from '../../src/adapters/fs-raw-crash-store.js';
import { createS3Client } from '../../src/adapters/s3-client.js';
import { S3RawCrashStore } from '../../src/adapters/s3-raw-crash-store.js';
import { createCrashId } from '../../src/common/crash-id.js';
import { rawCrash, rawCrashStoreContract } from './raw-crash-store.contract.js';
import { startBlackhole, startFlakyProxy, startS3rver, startS3rverWithLegacyCrypto, type LocalS3 } from './s3rver-support.js';

rawCrashStoreContract('filesystem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-raw-contract-'));
  const root = join(dir, 'raw');
  const store = await FsRawCrashStore.open(root);
  return {
    store,
    missing: async () => {
      const gone = join(dir, 'gone');
      const missing = await FsRawCrashStore.open(gone);
      rmSync(gone, { recursive: true, force: true });
      return missing;
    },
    takeDown: async () => rmSync(root, { recursive: true, force: true }),
    checkErrors: { missing: /ENOENT/, down: /ENOENT/ },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

const PREFIX = 'mayday/';

rawCrashStoreContract('S3 (s3rver)', async () => {
  const s3 = await startS3rver();
  const store = new S3RawCrashStore({ ...s3.options, prefix: PREFIX, timeoutMs: 5_000 });
  const others: S3RawCrashStore[] = [];
  return {
    store,
    missing: async () => {
      const missing = new S3RawCrashStore({ ...s3.options, bucket: 'no-such-bucket', prefix: PREFIX, timeoutMs: 5_000 });
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

describe('S3 raw crash store, beyond the contract', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function local(): Promise<LocalS3> {
    const s3 = await startS3rver();
    cleanups.push(() => s3.dispose());
    return s3;
  }
  function storeOn(s3: LocalS3, extra: { endpoint?: string; timeoutMs?: number } = {}, internal: { listPageSize?: number } = {}): S3RawCrashStore {
    const store = new S3RawCrashStore({ ...s3.options, prefix: PREFIX, timeoutMs: 5_000, ...extra }, internal);
    cleanups.push(() => store.close());
    return store;
  }
  async function keysIn(s3: LocalS3): Promise<string[]> {
    const client = createS3Client(s3.options);
    try {
      const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
      return (page.Contents ?? []).map((object) => object.Key!).sort();
    } finally {
      client.destroy();
    }
  }
  async function text(s3: LocalS3, key: string): Promise<string> {
    const client = createS3Client(s3.options);
    try {
      return await (await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToString();
    } finally {
      client.destroy();
    }
  }

  it("uses Antenna's key layout under the prefix, and writes the raw crash last", async () => {
    const s3 = await local();
    const store = storeOn(s3);
    const id = createCrashId(new Date(Date.UTC(2026, 10, 28)));
    const writer = await store.begin(id);
    await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP-main')]));
    await writer.addDump('upload_file_minidump_browser', Readable.from([Buffer.from('MDMP-browser')]));
    // Before the commit: the dumps only, no commit record.
    expect(await keysIn(s3)).toEqual([`${PREFIX}v1/upload_file_minidump/${id}`, `${PREFIX}v1/upload_file_minidump_browser/${id}`]);
    const crash = rawCrash(id);
    await writer.commit(crash);
    expect(await keysIn(s3)).toEqual(
      [`${PREFIX}v1/dump_names/${id}`, `${PREFIX}v1/raw_crash/20261128/${id}`, `${PREFIX}v1/upload_file_minidump/${id}`, `${PREFIX}v1/upload_file_minidump_browser/${id}`].sort(),
    );
    expect(JSON.parse(await text(s3, `${PREFIX}v1/dump_names/${id}`))).toEqual(['upload_file_minidump', 'upload_file_minidump_browser']);
    expect(JSON.parse(await text(s3, `${PREFIX}v1/raw_crash/20261128/${id}`))).toEqual(crash);
    expect(await text(s3, `${PREFIX}v1/upload_file_minidump/${id}`)).toBe('MDMP-main');
  });

  it('leaves no key behind when a crash is aborted, even after a failed dump', async () => {
    const s3 = await local();
    const store = storeOn(s3);
    const id = createCrashId();
    const writer = await store.begin(id);
    await writer.addDump('upload_file_minidump_browser', Readable.from([Buffer.from('MDMP-ok')]));
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('MDMP');
        throw new Error('connection reset by client');
      })(),
    );
    await expect(writer.addDump('upload_file_minidump', failing)).rejects.toThrow(/connection reset by client/);
    // A crash missing a dump the collector handed in is not committed.
    await expect(writer.commit(rawCrash(id))).rejects.toThrow(/upload_file_minidump of .* was not stored/);
    expect(await keysIn(s3)).toEqual([`${PREFIX}v1/upload_file_minidump_browser/${id}`]);
    await writer.abort();
    expect(await keysIn(s3)).toEqual([]);
  });

  it('refuses dump names that would land on its own keys', async () => {
    const s3 = await local();
    const writer = await storeOn(s3).begin(createCrashId());
    for (const name of ['raw_crash', 'dump_names', 'processed_crash']) {
      await expect(writer.addDump(name, Readable.from([Buffer.from('x')]))).rejects.toThrow(/unsafe dump name/);
    }
    await writer.abort();
    expect(await keysIn(s3)).toEqual([]);
  });

  it('lists a day across several pages', async () => {
    const s3 = await startS3rverWithLegacyCrypto();
    cleanups.push(() => s3.dispose());
    const store = storeOn(s3, {}, { listPageSize: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = createCrashId(new Date(Date.UTC(2026, 10, 28)));
      const writer = await store.begin(id);
      await writer.commit(rawCrash(id));
      ids.push(id);
    }
    const listed: string[] = [];
    for await (const id of store.listDay('20261128')) listed.push(id);
    expect(listed).toEqual(ids.sort());
  });

  it('retries a request the server refuses for a while (500 InternalError), up to five attempts', async () => {
    const s3 = await local();
    const flaky = await startFlakyProxy(s3.endpoint, 4);
    cleanups.push(() => flaky.close());
    const store = storeOn(s3, { endpoint: flaky.endpoint });
    const id = createCrashId();
    const writer = await store.begin(id);
    // Four refusals, then the fifth attempt of the dump's PUT goes through.
    await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP-retried')]));
    expect(flaky.requests()).toBe(5);
    await writer.commit(rawCrash(id));
    expect(await store.getDump(id, 'upload_file_minidump')).toEqual(Buffer.from('MDMP-retried'));

    const worse = await startFlakyProxy(s3.endpoint, 5);
    cleanups.push(() => worse.close());
    const giveUp = await storeOn(s3, { endpoint: worse.endpoint }).begin(createCrashId());
    await expect(giveUp.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP')]))).rejects.toThrow(/internal error/);
    expect(worse.requests()).toBe(5);
  });

  it('gives up on a server that accepts connections and never answers, instead of hanging', async () => {
    const s3 = await local();
    const hole = await startBlackhole();
    cleanups.push(() => hole.close());
    const store = storeOn(s3, { endpoint: hole.endpoint, timeoutMs: 300 });
    let started = Date.now();
    await expect(store.check()).rejects.toThrow(/unavailable: no answer from http:\/\/127\.0\.0\.1:\d+ within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);
    started = Date.now();
    const writer = await store.begin(createCrashId());
    await expect(writer.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP')]))).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);
});
