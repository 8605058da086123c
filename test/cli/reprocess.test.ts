/**
 * `mayday reprocess`, the real command, against a real node started here: by ids (bare
 * and `--crash-id`), by `--missing-symbols` (every module or one), on the node's data
 * directory and through its API with a token; and the errors a person meets (a bad id, a
 * wrong or weak token, a node that is not there).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, PROJECT_ROOT, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';

const DUMP = path.join(PROJECT_ROOT, 'fixtures/corpus/dumps/example-app-null.dmp');

let dataDir: string;
let node: MaydayProcess;
let crashId: string;
let debugId: string;
let reprocessor: string;
let uploader: string;

async function submit(): Promise<string> {
  const form = new FormData();
  form.append('ProductName', 'Example');
  form.append('Version', '1.0');
  form.append('upload_file_minidump', new Blob([readFileSync(DUMP)]), 'crash.dmp');
  const answer = await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text();
  return /CrashID=bp-([0-9a-f-]+)/.exec(answer)![1]!;
}

async function token(permissions: string): Promise<string> {
  const made = await runMayday(['tokens', 'create', '--user', 'ci', '--permissions', permissions, '--data-dir', dataDir]);
  expect(made.code, made.stderr).toBe(0);
  return made.stdout.trim().split('\n').at(-1)!.trim();
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'mayday-cli-reprocess-'));
  node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
  crashId = await submit();
  // Processed without symbols: example-app is on the missing-symbols list.
  const processed = await eventually(async () => {
    const response = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${crashId}`);
    return response.ok ? ((await response.json()) as { json_dump: { modules: { debug_file: string; debug_id: string }[] } }) : undefined;
  }, 20_000, 'the crash to be processed');
  debugId = processed.json_dump.modules.find((m) => m.debug_file === 'example-app')!.debug_id;
  reprocessor = await token('reprocess');
  uploader = await token('upload_symbols');
}, 60_000);

afterAll(async () => {
  await node?.stop('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('mayday reprocess on a running node (--url, --token)', () => {
  it('queues crashes named by bare ids and --crash-id, bp- allowed', async () => {
    const result = await runMayday(['reprocess', `bp-${crashId}`, '--url', node.url, '--token', reprocessor]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('queued 1 crash for reprocessing with the default ruleset\n');
    const again = await runMayday(['reprocess', '--crash-id', crashId, '--url', node.url, '--token', reprocessor, '--ruleset', 'signature']);
    expect(again.stdout).toBe('queued 1 crash for reprocessing with the signature ruleset\n');
  });

  it('queues the crashes that missed symbols: every module, or one', async () => {
    const all = await runMayday(['reprocess', '--missing-symbols', '--url', node.url, '--token', reprocessor]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toBe('queued 1 crash for reprocessing with the default ruleset\n');
    const one = await runMayday(['reprocess', '--missing-symbols', `example-app/${debugId}`, '--days', '2', '--url', node.url, '--token', reprocessor]);
    expect(one.stdout).toBe('queued 1 crash for reprocessing with the default ruleset\n');
    const none = await runMayday(['reprocess', '--missing-symbols', `no-such-module/${debugId}`, '--url', node.url, '--token', reprocessor]);
    expect(none.stdout).toBe('no crash matches; nothing was queued\n');
  });

  it('says which ids the node does not have (exit 1)', async () => {
    const result = await runMayday(['reprocess', '00000000-0000-0000-0000-000000261128', '--url', node.url, '--token', reprocessor]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not found (no raw crash): 00000000-0000-0000-0000-000000261128');
  });

  it('explains a refused token (401), a token without reprocess (403), and a node that is not there', async () => {
    const wrong = await runMayday(['reprocess', crashId, '--url', node.url, '--token', 'mdy_not_a_token']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/refused the token \(401/);
    expect(wrong.stderr).toContain('mayday tokens create');
    const weak = await runMayday(['reprocess', crashId, '--url', node.url, '--token', uploader]);
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/may not reprocess .* \(403/);
    const port = await closedPort();
    const away = await runMayday(['reprocess', crashId, '--url', `http://127.0.0.1:${port}`, '--token', reprocessor]);
    expect(away.code).toBe(2);
    expect(away.stderr).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
    const noToken = await runMayday(['reprocess', crashId, '--url', node.url], { MAYDAY_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('--url needs an API token');
  });
});

describe('mayday reprocess on the data directory', () => {
  it('queues by id and by missing symbols while the node runs', async () => {
    const byId = await runMayday(['reprocess', crashId, '--data-dir', dataDir]);
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stdout).toBe('queued 1 crash for reprocessing with the default ruleset\n');
    const missing = await runMayday(['reprocess', '--missing-symbols', `example-app/${debugId}`, '--data-dir', dataDir]);
    expect(missing.stdout).toBe('queued 1 crash for reprocessing with the default ruleset\n');
  });

  it('refuses bad input with a clear message (exit 2)', async () => {
    for (const [args, message] of [
      [['nope'], '"nope" is not a crash id'],
      [[crashId, '--signature', 'x'], 'exactly one of'],
      [[], 'exactly one of'],
      [['--missing-symbols', 'example-app'], '--missing-symbols takes DEBUG_FILE/DEBUG_ID'],
      [['--missing-symbols', '--days', '0'], '--days must be a whole number'],
      [[crashId, '--token', 'x'], '--token goes with --url'],
    ] as [string[], string][]) {
      const result = await runMayday(['reprocess', ...args, '--data-dir', dataDir]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(message);
    }
  });
});
