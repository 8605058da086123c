/**
 * A node on S3-compatible storage (s3rver, started here): crashes go in under Socorro's
 * key layout, are processed from there, and the web role reads them back; the health check
 * reports the store.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ProcessedCrashStore } from '../../src/adapters/s3-processed-crash-store.js';
import type { RunningNode } from '../../src/node/node.js';
import { eventually } from '../support/mayday-process.js';
import { startS3rver, type LocalS3 } from '../adapters/s3rver-support.js';
import { OTHER_DUMP, copyCorpusSymbols, startTestNode, submit } from './stackwalk-fixtures.js';

let dir: string;
let s3: LocalS3;
let node: RunningNode;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-s3-storage-'));
  copyCorpusSymbols(join(dir, 'symbols'), { withApp: true });
  s3 = await startS3rver('crashes');
  node = await startTestNode(dir, {
    'storage.backend': 's3',
    'storage.s3_bucket': s3.bucket,
    'storage.s3_prefix': 'prod/',
    'storage.s3_endpoint': s3.endpoint,
    'storage.s3_access_key_id': s3.options.accessKeyId,
    'storage.s3_secret_access_key': s3.options.secretAccessKey,
  });
});
afterAll(async () => {
  await node?.close();
  await s3?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('a node on S3 storage', () => {
  it('stores a submitted crash under the Socorro layout, processes it from there, and serves it', async () => {
    const crashId = await submit(node, readFileSync(OTHER_DUMP));
    const processed = new S3ProcessedCrashStore({ ...s3.options, prefix: 'prod/' });
    const crash = await eventually(() => processed.get(crashId), 15_000, `processed crash ${crashId}`);
    processed.close();
    expect(crash.success).toBe(true);
    expect(crash.signature).toBeTruthy();
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.options.accessKeyId, secretAccessKey: s3.options.secretAccessKey } });
    const keys = ((await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'prod/' }))).Contents ?? []).map((o) => o.Key).sort();
    client.destroy();
    const day = `20${crashId.slice(-6)}`;
    expect(keys).toEqual([`prod/v1/dump_names/${crashId}`, `prod/v1/processed_crash/${crashId}`, `prod/v1/raw_crash/${day}/${crashId}`, `prod/v1/upload_file_minidump/${crashId}`].sort());
    const api = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${crashId}`);
    expect(api.status).toBe(200);
    expect(((await api.json()) as { uuid: string }).uuid).toBe(crashId);
  });

  it('reports the store in /__heartbeat__, and its failure when the server is gone', async () => {
    expect((await fetch(`${node.url}/__heartbeat__`)).status).toBe(200);
    await s3.stop();
    const response = await fetch(`${node.url}/__heartbeat__`);
    expect(response.status).toBe(500);
    expect(await response.text()).toMatch(/raw_crash_store/);
  });
});
