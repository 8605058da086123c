/**
 * `mayday reprocess --query` selecting on an annotation field the operator declared in the
 * INI (`[annotations.fields.NAME]`), on the node's data directory (`--config`) and through
 * a running node (`--url`, `--token`): both must know the node's declared fields, not only
 * the built-in ones.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, PROJECT_ROOT, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';

const DUMP = path.join(PROJECT_ROOT, 'fixtures/corpus/dumps/example-app-null.dmp');

let dataDir: string;
let configFile: string;
let node: MaydayProcess;
let token: string;

async function submit(gpuVendor: string): Promise<string> {
  const form = new FormData();
  form.append('ProductName', 'Example');
  form.append('Version', '1.0');
  form.append('GPUVendor', gpuVendor);
  form.append('upload_file_minidump', new Blob([readFileSync(DUMP)]), 'crash.dmp');
  const answer = await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text();
  return /CrashID=bp-([0-9a-f-]+)/.exec(answer)![1]!;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'mayday-cli-reprocess-fields-'));
  configFile = path.join(dataDir, 'node.ini');
  writeFileSync(
    configFile,
    `[node]\nroles = collector, processor, web, scheduler\ndata_dir = ${dataDir}\n[web]\nport = 0\n[processor]\npoll_interval = 50ms\n\n[annotations.fields.gpu_vendor]\nannotation = GPUVendor\ndescription = GPU vendor\n`,
  );
  node = await startMayday(['run', '--config', configFile]);
  const ids = [await submit('Acme'), await submit('Other')];
  await eventually(async () => {
    const answer = (await (await fetch(`${node.url}/api/SuperSearch/?gpu_vendor=Acme&gpu_vendor=Other&_results_number=0`)).json()) as { total?: number };
    return answer.total === ids.length ? true : undefined;
  }, 20_000, 'both crashes to be processed and indexed');
  const made = await runMayday(['tokens', 'create', '--user', 'ci', '--permissions', 'reprocess', '--config', configFile]);
  expect(made.code, made.stderr).toBe(0);
  token = made.stdout.trim().split('\n').at(-1)!.trim();
}, 60_000);

afterAll(async () => {
  await node?.stop('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('mayday reprocess --query on a declared annotation field', () => {
  it('selects through a running node', async () => {
    const result = await runMayday(['reprocess', '--query', 'gpu_vendor=Acme', '--url', node.url, '--token', token]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('queued 1 crash for reprocessing with the default ruleset\n');
  });

  it("selects on the node's own storage, reading the fields from its configuration", async () => {
    const result = await runMayday(['reprocess', '--query', 'gpu_vendor=Acme&gpu_vendor=Other', '--config', configFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('queued 2 crashes for reprocessing with the default ruleset');
    const unknown = await runMayday(['reprocess', '--query', 'gpu_vendr=Acme', '--config', configFile]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('Unknown field "gpu_vendr"');
  });
});
