import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CORPUS, corpusDumps } from '../support/corpus.js';
import { eventually, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';

/** The processor as deployed: separate processes sharing the embedded stores. */

const dumps = corpusDumps();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDirWithSymbols(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-e2e-processor-'));
  dirs.push(dir);
  cpSync(join(CORPUS, 'symbols'), join(dir, 'symbols'), { recursive: true });
  return dir;
}

function nodeConfig(dataDir: string, name: string, roles: string, processorOptions = ''): string {
  const path = join(dataDir, `${name}.ini`);
  writeFileSync(path, `[node]\nname = ${name}\nroles = ${roles}\ndata_dir = ${dataDir}\n[web]\nport = 0\n[processor]\npoll_interval = 50ms\n${processorOptions}`);
  return path;
}

async function submit(url: string, dumpPath: string, version = '1.0'): Promise<string> {
  const form = new FormData();
  form.append('ProductName', 'Example');
  form.append('Version', version);
  form.append('upload_file_minidump', new Blob([readFileSync(dumpPath)]), 'crash.dmp');
  const answer = await (await fetch(`${url}/submit`, { method: 'POST', body: form })).text();
  return answer.trim().replace('CrashID=bp-', '');
}

function indexed(dataDir: string): { crash_id: string; processed_at: number; signature: string }[] {
  const db = new Database(join(dataDir, 'mayday.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT crash_id, processed_at, signature FROM crashes').all() as { crash_id: string; processed_at: number; signature: string }[];
  } finally {
    db.close();
  }
}

async function stop(node: MaydayProcess): Promise<void> {
  await node.stop('SIGINT');
}

describe('processor, end to end', () => {
  it('processes every corpus crash with its symbols uploaded: symbolicated, signed, indexed and searchable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mayday-e2e-processor-'));
    dirs.push(dataDir);
    const node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    try {
      const token = (await runMayday(['tokens', 'create', '--user', 'ci', '--permissions', 'upload_symbols', '--data-dir', dataDir])).stdout.trim().split('\n').at(-1)!.trim();
      const upload = await runMayday(['symbols', 'upload', join(CORPUS, 'symbols'), '--url', node.url, '--token', token]);
      expect(upload.code, upload.stderr).toBe(0);
      const ids = await Promise.all(dumps.map((d) => submit(node.url, d.path)));
      const crashes = await Promise.all(
        ids.map((id) =>
          eventually(async () => {
            const r = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${id}`);
            return r.status === 200 ? ((await r.json()) as Record<string, unknown>) : undefined;
          }, 10_000, `crash ${id}`),
        ),
      );
      for (const [i, crash] of crashes.entries()) {
        expect(crash.success, dumps[i].name).toBe(true);
        expect(crash.signature, dumps[i].name).toMatch(/\S/);
        expect(String(crash.signature)).not.toMatch(/^EMPTY/);
      }
      const nullDeref = crashes[dumps.findIndex((d) => d.name === 'example-app-null')];
      expect(String(nullDeref.signature)).toMatch(/^crash_null_deref/);
      expect(nullDeref.topmost_filenames).toContain('/srv/example-app/crasher.cc');
      expect(indexed(dataDir).map((r) => r.crash_id).sort()).toEqual([...ids].sort());

      const search = (await (await fetch(`${node.url}/api/SuperSearch/?signature=${encodeURIComponent(String(nullDeref.signature))}&_facets=product`)).json()) as {
        total: number;
        hits: { uuid: string }[];
        facets: { product: { term: string; count: number }[] };
      };
      const sameSignature = crashes.filter((c) => c.signature === nullDeref.signature).map((c) => c.uuid);
      expect(search.total).toBe(sameSignature.length);
      expect(search.hits.map((h) => h.uuid).sort()).toEqual([...sameSignature].sort());
      expect(search.facets.product).toEqual([{ term: 'Example', count: sameSignature.length }]);
    } finally {
      await stop(node);
    }
  });

  it('shows a crash opened before processing as pending, and processes it first through the priority queue', async () => {
    const dataDir = dataDirWithSymbols();
    // Collector and web only: crashes wait in the queue.
    const front = await startMayday(['run', '--config', nodeConfig(dataDir, 'front', 'collector, web')]);
    let processor: MaydayProcess | undefined;
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push(await submit(front.url, dumps[i % dumps.length].path));
      const wanted = ids[12 + dumps.findIndex((d) => d.name === 'example-app-null')];
      const page = await (await fetch(`${front.url}/report/index/${wanted}`)).text();
      expect(page).toContain('pending');
      expect(page).toContain('http-equiv="refresh"');

      // One crash at a time: with several in hand, the priority crash is taken first but
      // may finish after one taken beside it, and finishing order is what the index records.
      processor = await startMayday(['run', '--config', nodeConfig(dataDir, 'processor', 'processor', 'concurrency = 1\nworkers = 1\n')]);
      await eventually(async () => (indexed(dataDir).length === ids.length ? true : undefined), 30_000, 'all crashes processed');
      const order = indexed(dataDir).sort((a, b) => a.processed_at - b.processed_at).map((r) => r.crash_id);
      expect(order[0]).toBe(wanted);
      const report = await (await fetch(`${front.url}/report/index/${wanted}`)).text();
      expect(report).not.toContain('pending');
      expect(report).toContain('crash_null_deref');
    } finally {
      if (processor) await stop(processor);
      await stop(front);
    }
  });

  it('loses nothing and indexes each crash exactly once when the processor is killed mid-batch', async () => {
    const dataDir = dataDirWithSymbols();
    const front = await startMayday(['run', '--config', nodeConfig(dataDir, 'front', 'collector, web')]);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 120; i++) ids.push(await submit(front.url, dumps[i % dumps.length].path));
    } finally {
      await stop(front);
    }
    const config = nodeConfig(dataDir, 'processor', 'processor');
    const first = await startMayday(['run', '--config', config]);
    await eventually(async () => (indexed(dataDir).length >= 20 ? true : undefined), 20_000, 'part of the batch');
    await first.stop('SIGKILL');
    const before = indexed(dataDir).length;
    expect(before).toBeLessThan(ids.length);

    const second = await startMayday(['run', '--config', config]);
    try {
      await eventually(async () => (indexed(dataDir).length === ids.length ? true : undefined), 30_000, 'the rest of the batch');
    } finally {
      await stop(second);
    }
    const rows = indexed(dataDir);
    expect(rows.map((r) => r.crash_id).sort()).toEqual([...ids].sort());
    const processedFiles = readdirSync(join(dataDir, 'processed')).flatMap((day) => readdirSync(join(dataDir, 'processed', day)));
    expect(processedFiles.filter((f) => f.endsWith('.json')).sort()).toEqual(ids.map((id) => `${id}.json`).sort());
    const queue = new Database(join(dataDir, 'queue.sqlite'), { readonly: true });
    expect(queue.prepare('SELECT COUNT(*) FROM queue_items').pluck().get()).toBe(0);
    queue.close();
  });

  it('reprocesses crashes named on the command line, with the ruleset asked for, while the node runs', async () => {
    const dataDir = dataDirWithSymbols();
    const node = await startMayday(['run', '--config', nodeConfig(dataDir, 'all', 'collector, processor, web')]);
    try {
      const id = await submit(node.url, dumps[0].path);
      const processedWith = async (ruleset: string) => {
        const r = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${id}`);
        const crash = r.status === 200 ? ((await r.json()) as { ruleset: string; date_processed: string }) : undefined;
        return crash?.ruleset === ruleset ? crash : undefined;
      };
      const first = await eventually(() => processedWith('default'), 10_000, 'first processing');
      const result = await runMayday(['reprocess', '--crash-id', `bp-${id}`, '--ruleset', 'signature', '--data-dir', dataDir]);
      expect(result.stdout).toBe('queued 1 crash for reprocessing with the signature ruleset\n');
      expect(result.code).toBe(0);
      const second = await eventually(() => processedWith('signature'), 10_000, 'reprocessing');
      expect(second.date_processed > first.date_processed).toBe(true);

      const bad = await runMayday(['reprocess', '--crash-id', '00000000-0000-0000-0000-000000261128', '--data-dir', dataDir]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('not found (no raw crash): 00000000-0000-0000-0000-000000261128');
      const wrong = await runMayday(['reprocess', '--crash-id', 'nope', '--data-dir', dataDir]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('"nope" is not a crash id');
    } finally {
      await stop(node);
    }
  });

  it('reprocesses through Socorro\'s Reprocessing API for a token with the reprocess permission', async () => {
    const dataDir = dataDirWithSymbols();
    const node = await startMayday(['run', '--config', nodeConfig(dataDir, 'all', 'collector, processor, web')]);
    try {
      const id = await submit(node.url, dumps[0].path);
      await eventually(async () => ((await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${id}`)).status === 200 ? true : undefined), 10_000, 'processing');
      const token = async (permissions: string) => (await runMayday(['tokens', 'create', '--user', 'ci', '--permissions', permissions, '--data-dir', dataDir])).stdout.trim().split('\n').at(-1)!.trim();
      const reprocessor = await token('reprocess');
      const uploader = await token('upload_symbols');
      const post = (body: string, auth?: string) =>
        fetch(`${node.url}/api/Reprocessing/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { 'auth-token': auth } : {}) }, body });

      expect((await post(`crash_ids=${id}`)).status).toBe(401);
      expect((await post(`crash_ids=${id}`, uploader)).status).toBe(403);
      expect((await post('crash_ids=nope', reprocessor)).status).toBe(400);
      expect((await post(`crash_ids=${id}&ruleset=nonsense`, reprocessor)).status).toBe(400);
      const unknown = await post('crash_ids=00000000-0000-0000-0000-000000261128', reprocessor);
      expect(unknown.status).toBe(404);
      const ok = await post(`crash_ids=bp-${id}&ruleset=signature`, reprocessor);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toBe(true);
      await eventually(async () => {
        const crash = (await (await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${id}`)).json()) as { ruleset: string };
        return crash.ruleset === 'signature' ? true : undefined;
      }, 10_000, 'reprocessing through the API');
      // By signature and by Super Search query.
      const signature = ((await (await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${id}`)).json()) as { signature: string }).signature;
      const bySignature = await post(`signature=${encodeURIComponent(signature)}`, reprocessor);
      expect(await bySignature.json()).toEqual({ queued: 1, crash_ids: [id] });
      const byQuery = await post(`query=${encodeURIComponent('product=Example&version=1.0')}`, reprocessor);
      expect(await byQuery.json()).toEqual({ queued: 1, crash_ids: [id] });
      const none = await post(`query=${encodeURIComponent('product=NoSuchProduct')}`, reprocessor);
      expect(await none.json()).toEqual({ queued: 0, crash_ids: [] });
      expect((await post(`query=${encodeURIComponent('nosuchfield=1')}`, reprocessor)).status).toBe(400);
      expect((await post(`query=${encodeURIComponent('email=x@example.com')}`, reprocessor)).status).toBe(403);
      expect((await post(`crash_ids=${id}&signature=x`, reprocessor)).status).toBe(400);

      const cli = await runMayday(['reprocess', '--signature', signature, '--data-dir', dataDir]);
      expect(cli.stdout).toBe('queued 1 crash for reprocessing with the default ruleset\n');
      const cliQuery = await runMayday(['reprocess', '--query', 'product=NoSuchProduct', '--data-dir', dataDir]);
      expect(cliQuery.stdout).toBe('no crash matches; nothing was queued\n');
      const cliBad = await runMayday(['reprocess', '--query', 'nosuchfield=1', '--data-dir', dataDir]);
      expect(cliBad.code).toBe(2);
      expect(cliBad.stderr).toContain('Unknown field "nosuchfield"');

      const letters = await fetch(`${node.url}/api/DeadLetters/`, { headers: { 'auth-token': reprocessor } });
      expect(await letters.json()).toEqual({ total: 0, hits: [] });
      expect((await fetch(`${node.url}/api/DeadLetters/`)).status).toBe(401);
    } finally {
      await stop(node);
    }
  });
});
