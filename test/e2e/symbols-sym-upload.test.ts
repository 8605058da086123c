/**
 * Acceptance for symbols, end to end on the real `mayday` command: a crash processed
 * without symbols is recorded as missing them; Breakpad's own `sym_upload` uploads the
 * corpus symbols with a token made by `mayday tokens create`; `mayday symbols reprocess`
 * re-queues the crash; it comes back symbolicated.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { symbolFiles } from '../support/corpus.js';
import { eventually, PROJECT_ROOT, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { buildSymUpload } from '../symbols/sym-upload-tool.js';

const run = promisify(execFile);
const built = buildSymUpload();
const DUMP = path.join(PROJECT_ROOT, 'fixtures/corpus/dumps/example-app-null.dmp');
const SYMBOLS = path.join(PROJECT_ROOT, 'fixtures/corpus/symbols');

interface Frame {
  function?: string | null;
}
interface Processed {
  crashing_thread?: number;
  json_dump?: { threads?: { frames?: Frame[] }[]; modules?: { debug_file?: string; debug_id?: string; missing_symbols?: boolean }[] };
}

describe.skipIf(!built.tool)(`sym_upload then reprocess, end to end${built.reason ? ` (skipped: ${built.reason})` : ''}`, () => {
  let dataDir: string;
  let mayday: MaydayProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mayday-e2e-symbols-'));
    mayday = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
  }, 30_000);

  afterAll(async () => {
    await mayday?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function processed(crashId: string): Promise<Processed | undefined> {
    const response = await fetch(`${mayday.url}/api/ProcessedCrash/?crash_id=${crashId}`);
    return response.ok ? ((await response.json()) as Processed) : undefined;
  }

  function crashingFrames(crash: Processed): string[] {
    return (crash.json_dump?.threads?.[crash.crashing_thread ?? -1]?.frames ?? []).map((f) => f.function ?? '');
  }
  const hasNullDeref = (crash: Processed): boolean => crashingFrames(crash).some((f) => f.startsWith('crash_null_deref('));

  it('turns an unsymbolicated crash into a symbolicated one', async () => {
    // 1. A crash with no symbols anywhere.
    const form = new FormData();
    form.append('ProductName', 'Example');
    form.append('Version', '1.0');
    form.append('upload_file_minidump', new Blob([readFileSync(DUMP)]), 'crash.dmp');
    const submitted = await (await fetch(`${mayday.url}/submit`, { method: 'POST', body: form })).text();
    const crashId = /CrashID=bp-([0-9a-f-]+)/.exec(submitted)?.[1];
    expect(crashId, submitted).toBeDefined();
    const before = await eventually(() => processed(crashId!), 15_000, 'the first processing');
    expect(crashingFrames(before).length).toBeGreaterThan(0);
    expect(hasNullDeref(before)).toBe(false);
    const app = before.json_dump!.modules!.find((m) => m.debug_file === 'example-app')!;
    expect(app.missing_symbols).toBe(true);

    const missing = (await (await fetch(`${mayday.url}/api/MissingSymbols/`)).json()) as { hits: { debug_file: string; debug_id: string; crash_count: number }[] };
    expect(missing.hits).toContainEqual(expect.objectContaining({ debug_file: 'example-app', debug_id: app.debug_id, crash_count: 1 }));

    // 2. A token from the CLI, then Breakpad's sym_upload with it (v1 protocol, token in the URL).
    const created = await runMayday(['tokens', 'create', '--permissions', 'upload_symbols,reprocess', '--user', 'ci', '--data-dir', dataDir]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    for (const file of symbolFiles(SYMBOLS)) {
      const { stdout } = await run(built.tool!, [file, `${mayday.url}/symbols/upload?token=${token}`]);
      expect(stdout, file).toContain('Successfully sent the symbol file');
    }
    expect(mayday.stdout() + mayday.stderr()).not.toContain(token);

    // 3. Reprocess through the CLI; the crash comes back with function names.
    const reprocess = await runMayday(['symbols', 'reprocess', '--url', mayday.url, '--token', token, '--debug-file', 'example-app', '--debug-id', app.debug_id!, '--days', '1']);
    expect(reprocess.code, reprocess.stderr).toBe(0);
    expect(reprocess.stdout.trim()).toBe(crashId);
    const after = await eventually(async () => {
      const crash = await processed(crashId!);
      return crash && hasNullDeref(crash) ? crash : undefined;
    }, 15_000, 'the reprocessed crash to have function names');
    expect(after.json_dump!.modules!.find((m) => m.debug_file === 'example-app')!.missing_symbols).toBe(false);

    // 4. The crash no longer counts as missing example-app's symbols.
    const now = (await (await fetch(`${mayday.url}/api/MissingSymbols/`)).json()) as { hits: { debug_file: string }[] };
    expect(now.hits.map((h) => h.debug_file)).not.toContain('example-app');
  }, 60_000);
});

describe.skipIf(!built.tool)(`sym_upload with reprocess=1 queues the crashes that missed the symbols${built.reason ? ` (skipped: ${built.reason})` : ''}`, () => {
  let dataDir: string;
  let mayday: MaydayProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mayday-e2e-symbols-reprocess-'));
    mayday = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
  }, 30_000);

  afterAll(async () => {
    await mayday?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('needs no reprocess command: the upload itself brings the crash back symbolicated', async () => {
    const form = new FormData();
    form.append('ProductName', 'Example');
    form.append('Version', '1.0');
    form.append('upload_file_minidump', new Blob([readFileSync(DUMP)]), 'crash.dmp');
    const crashId = /CrashID=bp-([0-9a-f-]+)/.exec(await (await fetch(`${mayday.url}/submit`, { method: 'POST', body: form })).text())![1]!;
    const processedCrash = async (): Promise<Processed | undefined> => {
      const response = await fetch(`${mayday.url}/api/ProcessedCrash/?crash_id=${crashId}`);
      return response.ok ? ((await response.json()) as Processed) : undefined;
    };
    const frames = (crash: Processed) => (crash.json_dump?.threads?.[crash.crashing_thread ?? -1]?.frames ?? []).map((f) => f.function ?? '');
    const before = await eventually(processedCrash, 15_000, 'the first processing');
    expect(frames(before).some((f) => f.startsWith('crash_null_deref('))).toBe(false);

    const created = await runMayday(['tokens', 'create', '--permissions', 'upload_symbols,reprocess', '--user', 'ci', '--data-dir', dataDir]);
    const token = created.stdout.trim().split('\n').at(-1)!.trim();
    for (const file of symbolFiles(SYMBOLS)) {
      const { stdout } = await run(built.tool!, [file, `${mayday.url}/symbols/upload?token=${token}&reprocess=1`]);
      expect(stdout, file).toContain('Successfully sent the symbol file');
    }
    await eventually(async () => {
      const crash = await processedCrash();
      return crash && frames(crash).some((f) => f.startsWith('crash_null_deref(')) ? crash : undefined;
    }, 15_000, 'the crash to come back symbolicated after the upload alone');
  }, 60_000);
});
