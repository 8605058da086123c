import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { FsRawCrashStore } from '../../src/adapters/fs-raw-crash-store.js';
import { createCrashId } from '../../src/common/crash-id.js';
import type { RawCrash } from '../../src/ports/raw-crash-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-raw-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function rawCrash(uuid: string): RawCrash {
  return {
    uuid,
    submitted_timestamp: new Date().toISOString(),
    annotations: { ProductName: 'Example' },
    metadata: { collector_notes: [], dumps: {}, payload: 'multipart', payload_compressed: false, user_agent: '', throttle_result: 'accept', throttle_rule: 'test' },
  };
}

describe('filesystem raw crash store', () => {
  it('streams dumps in, commits atomically into the day partition, and reads back', async () => {
    const root = tempDir();
    const store = await FsRawCrashStore.open(root);
    const id = createCrashId(new Date(Date.UTC(2026, 10, 28)));
    const writer = await store.begin(id);
    const bytes = Buffer.from('MDMP' + 'x'.repeat(100_000));
    const info = await writer.addDump('upload_file_minidump', Readable.from([bytes.subarray(0, 50), bytes.subarray(50)]));
    expect(info).toEqual({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(await store.get(id)).toBeUndefined(); // not visible before commit
    await writer.commit(rawCrash(id));
    expect((await store.get(id))?.annotations.ProductName).toBe('Example');
    expect(await store.getDump(id, 'upload_file_minidump')).toEqual(bytes);
    expect(existsSync(join(root, '20261128', `${id}.crash`))).toBe(true);
    const listed: string[] = [];
    for await (const listedId of store.listDay('20261128')) listed.push(listedId);
    expect(listed).toEqual([id]);
  });

  it('keeps several dumps apart, in the order given, with their checksums', async () => {
    const store = await FsRawCrashStore.open(tempDir());
    const id = createCrashId();
    const writer = await store.begin(id);
    const main = Buffer.from('MDMP-main'.repeat(10_000));
    const browser = Buffer.from('MDMP-browser');
    // Handed in without waiting, as a multipart parser may: they must not interleave.
    const [a, b] = await Promise.all([
      writer.addDump('upload_file_minidump', Readable.from([main.subarray(0, 1000), main.subarray(1000)])),
      writer.addDump('upload_file_minidump_browser', Readable.from([browser])),
    ]);
    await expect(writer.addDump('upload_file_minidump', Readable.from([browser]))).rejects.toThrow(/already added/);
    await writer.commit(rawCrash(id));
    expect(a.sha256).toBe(createHash('sha256').update(main).digest('hex'));
    expect(b.size).toBe(browser.length);
    expect(await store.getDump(id, 'upload_file_minidump')).toEqual(main);
    expect(await store.getDump(id, 'upload_file_minidump_browser')).toEqual(browser);
    expect(await store.getDump(id, 'missing')).toBeUndefined();
    expect(await store.getDump(id, 'constructor')).toBeUndefined();
    expect((await store.get(id))?.uuid).toBe(id);
  });

  it('refuses a crash file that is not one of its own', async () => {
    const root = tempDir();
    const store = await FsRawCrashStore.open(root);
    const id = createCrashId(new Date(Date.UTC(2026, 10, 28)));
    mkdirSync(join(root, '20261128'));
    writeFileSync(join(root, '20261128', `${id}.crash`), 'garbage that is long enough to have a footer');
    await expect(store.get(id)).rejects.toThrow(/no Mayday trailer/);
  });

  it('leaves nothing behind when a crash is aborted', async () => {
    const root = tempDir();
    const store = await FsRawCrashStore.open(root);
    const id = createCrashId();
    const writer = await store.begin(id);
    await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('abc')]));
    await writer.abort();
    expect(readdirSync(join(root, '.incoming'))).toEqual([]);
    expect(await store.get(id)).toBeUndefined();
  });

  it('removes half-received crashes of dead processes on open, keeps those of live ones', async () => {
    const root = tempDir();
    mkdirSync(join(root, '.incoming', `abc.999999999.0a0b.tmp`), { recursive: true });
    mkdirSync(join(root, '.incoming', `def.${process.pid}.0a0c.tmp`), { recursive: true });
    writeFileSync(join(root, '.incoming', `abc.999999999.0a0b.tmp`, 'partial'), 'x');
    await FsRawCrashStore.open(root);
    expect(readdirSync(join(root, '.incoming'))).toEqual([`def.${process.pid}.0a0c.tmp`]);
  });

  it('refuses unsafe dump names and ids', async () => {
    const store = await FsRawCrashStore.open(tempDir());
    const id = createCrashId();
    const writer = await store.begin(id);
    await expect(writer.addDump('../escape', Readable.from([Buffer.from('x')]))).rejects.toThrow(/unsafe dump name/);
    expect(await store.getDump(id, '../../etc/passwd')).toBeUndefined();
    await expect(store.get('../../etc')).rejects.toThrow(/not a crash id/);
  });
});
