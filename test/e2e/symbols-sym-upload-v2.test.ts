/**
 * Acceptance for Breakpad's `sym_upload -p sym-upload-v2` (check, create, PUT, complete),
 * end to end on the real `mayday` command with Breakpad's own client, built from the
 * `minidump` package's source as the v1 test builds it: a crash processed without symbols;
 * the corpus symbols uploaded with a token from `mayday tokens create` given as `-k`; the
 * crash reprocessed afterwards comes back symbolicated. The second suite uploads to the
 * `/symbols/reprocess` base, which queues the crashes that missed the symbols by itself.
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

interface Processed {
  crashing_thread?: number;
  json_dump?: { threads?: { frames?: { function?: string | null }[] }[]; modules?: { debug_file?: string; debug_id?: string; missing_symbols?: boolean }[] };
}

/** Runs Breakpad's sym_upload with the v2 protocol; never rejects, so that a failure's output can be shown. */
async function symUploadV2(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(built.tool!, ['-p', 'sym-upload-v2', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A node with one crash processed before any symbols exist. */
function withUnsymbolicatedCrash(label: string) {
  const state = {} as { dataDir: string; mayday: MaydayProcess; crashId: string; token: string };

  beforeAll(async () => {
    state.dataDir = mkdtempSync(path.join(tmpdir(), `mayday-e2e-symv2-${label}-`));
    state.mayday = await startMayday(['start', '--data-dir', state.dataDir, '--port', '0']);
    const form = new FormData();
    form.append('ProductName', 'Example');
    form.append('Version', '1.0');
    form.append('upload_file_minidump', new Blob([readFileSync(DUMP)]), 'crash.dmp');
    const submitted = await (await fetch(`${state.mayday.url}/submit`, { method: 'POST', body: form })).text();
    state.crashId = /CrashID=bp-([0-9a-f-]+)/.exec(submitted)![1];
    const created = await runMayday(['tokens', 'create', '--permissions', 'upload_symbols,reprocess', '--user', 'ci', '--data-dir', state.dataDir]);
    expect(created.code, created.stderr).toBe(0);
    state.token = created.stdout.trim().split('\n').at(-1)!.trim();
  }, 30_000);

  afterAll(async () => {
    await state.mayday?.stop('SIGTERM');
    if (state.dataDir) rmSync(state.dataDir, { recursive: true, force: true });
  });

  const processed = async (): Promise<Processed | undefined> => {
    const response = await fetch(`${state.mayday.url}/api/ProcessedCrash/?crash_id=${state.crashId}`);
    return response.ok ? ((await response.json()) as Processed) : undefined;
  };
  const frames = (crash: Processed): string[] => (crash.json_dump?.threads?.[crash.crashing_thread ?? -1]?.frames ?? []).map((f) => f.function ?? '');
  const symbolicated = async (): Promise<Processed | undefined> => {
    const crash = await processed();
    return crash && frames(crash).some((f) => f.startsWith('crash_null_deref(')) ? crash : undefined;
  };
  return { state, processed, frames, symbolicated };
}

describe.skipIf(!built.tool)(`sym_upload -p sym-upload-v2, then reprocess, end to end${built.reason ? ` (skipped: ${built.reason})` : ''}`, () => {
  const { state, processed, frames, symbolicated } = withUnsymbolicatedCrash('plain');

  it('uploads the corpus symbols with the v2 protocol and the reprocessed crash is symbolicated', async () => {
    const { mayday, token } = state;
    const before = await eventually(processed, 15_000, 'the first processing');
    expect(frames(before).length).toBeGreaterThan(0);
    expect(frames(before).some((f) => f.startsWith('crash_null_deref('))).toBe(false);
    const app = before.json_dump!.modules!.find((m) => m.debug_file === 'example-app')!;
    expect(app.missing_symbols).toBe(true);

    const files = symbolFiles(SYMBOLS);
    // A wrong key: the client fails at its first step (checkStatus) and says so.
    const refused = await symUploadV2(['-k', 'not-a-token', files[0], `${mayday.url}/symbols`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toContain('Failed to check for existing symbol');
    expect(refused.stdout).toContain('invalid, expired or revoked API token');

    for (const file of files) {
      const upload = await symUploadV2(['-k', token, file, `${mayday.url}/symbols`]);
      expect(upload.stdout, `${file}\n${upload.stderr}`).toContain('Successfully sent the symbol file.');
      expect(upload.code).toBe(0);
    }
    // Every file is in the store now: the client's check finds it and stops...
    const again = await symUploadV2(['-k', token, files[0], `${mayday.url}/symbols`]);
    expect(again.stdout).toContain('Symbol file already exists, upload aborted.');
    expect(again.code).toBe(0);
    // ...and forced, the same bytes are recognised.
    const forced = await symUploadV2(['-f', '-k', token, files[0], `${mayday.url}/symbols`]);
    expect(forced.stdout).toContain('Uploaded file checksum matched existing file checksum, no change necessary.');
    expect(forced.code).toBe(0);
    expect(mayday.stdout() + mayday.stderr()).not.toContain(token);

    // The store answers for each uploaded module (checkStatus, as the client asks it).
    const status = await (await fetch(`${mayday.url}/symbols/v1/symbols/example-app/${app.debug_id}:checkStatus?key=${token}`)).text();
    expect(status).toContain('"status": "FOUND"');

    const reprocess = await runMayday(['symbols', 'reprocess', '--url', mayday.url, '--token', token, '--debug-file', 'example-app', '--debug-id', app.debug_id!, '--days', '1']);
    expect(reprocess.code, reprocess.stderr).toBe(0);
    expect(reprocess.stdout.trim()).toBe(state.crashId);
    const after = await eventually(symbolicated, 15_000, 'the reprocessed crash to have function names');
    expect(after.json_dump!.modules!.find((m) => m.debug_file === 'example-app')!.missing_symbols).toBe(false);
    const missing = (await (await fetch(`${mayday.url}/api/MissingSymbols/`)).json()) as { hits: { debug_file: string }[] };
    expect(missing.hits.map((h) => h.debug_file)).not.toContain('example-app');
  }, 90_000);
});

describe.skipIf(!built.tool)(`sym_upload -p sym-upload-v2 to /symbols/reprocess queues the crashes that missed the symbols${built.reason ? ` (skipped: ${built.reason})` : ''}`, () => {
  const { state, processed, frames, symbolicated } = withUnsymbolicatedCrash('reprocess');

  it('needs no reprocess command: the upload itself brings the crash back symbolicated', async () => {
    const before = await eventually(processed, 15_000, 'the first processing');
    expect(frames(before).some((f) => f.startsWith('crash_null_deref('))).toBe(false);
    for (const file of symbolFiles(SYMBOLS)) {
      const upload = await symUploadV2(['-k', state.token, file, `${state.mayday.url}/symbols/reprocess`]);
      expect(upload.stdout, `${file}\n${upload.stderr}`).toContain('Successfully sent the symbol file.');
    }
    await eventually(symbolicated, 15_000, 'the crash to come back symbolicated after the upload alone');
  }, 90_000);
});
