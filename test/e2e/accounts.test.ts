/**
 * Accounts and protected data end to end, through the real `mayday` command: the first
 * admin made with `mayday users create`, a crash carrying personal data submitted
 * through the collector and processed, then every endpoint that shows crash data asked
 * anonymously, with a token lacking `view_protected`, and with one that has it. The
 * personal values are unique strings: any endpoint that leaks one, in any field, fails.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { corpusDumps } from '../support/corpus.js';
import { MAYDAY_BIN, PROJECT_ROOT, eventually, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';

/** Runs `mayday ARGS...` with `input` on its standard input. */
function runWithStdin(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAYDAY_BIN, ...args], { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const PERSONAL = { Email: 'leak-email-7f3a@example.org', URL: 'https://leak-url-91c2.example/secret', Comments: 'leak-comment-55de it crashed', Notes: 'leak-notes-0b81' };
const leaks = (text: string): string[] => Object.values(PERSONAL).filter((v) => text.includes(v) || text.includes(encodeURIComponent(v)));

let dataDir: string;
let node: MaydayProcess;
let crashId: string;
const dump = corpusDumps()[0]!;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mayday-e2e-accounts-'));
  const admin = await runWithStdin(['users', 'create', 'root', '--admin', '--password-stdin', '--data-dir', dataDir], 'the first admin password\n');
  expect(admin.code, admin.stderr).toBe(0);
  node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
  const form = new FormData();
  form.append('ProductName', 'Example');
  form.append('Version', '1.0');
  for (const [name, value] of Object.entries(PERSONAL)) form.append(name, value);
  form.append('upload_file_minidump', new Blob([readFileSync(dump.path)]), 'crash.dmp');
  crashId = (await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text()).trim().replace('CrashID=bp-', '');
  await eventually(async () => ((await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${crashId}`)).status === 200 ? true : undefined), 15_000, 'processing');
}, 60_000);
afterAll(async () => {
  await node?.stop('SIGINT');
  rmSync(dataDir, { recursive: true, force: true });
});

async function token(user: string, permissions: string): Promise<string> {
  const made = await runMayday(['tokens', 'create', '--user', user, '--permissions', permissions, '--data-dir', dataDir]);
  expect(made.code, made.stderr).toBe(0);
  return made.stdout.trim().split('\n').at(-1)!.trim();
}

describe('mayday users', () => {
  it('creates the first admin and lists users without their passwords', async () => {
    const listed = await runMayday(['users', 'list', '--data-dir', dataDir]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/root\s+active\s+set\s+-\s+admin/);
    expect(listed.stdout).not.toContain('the first admin password');
    const again = await runMayday(['users', 'create', 'root', '--password', 'another long one', '--data-dir', dataDir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    const badGroup = await runMayday(['users', 'create', 'eve', '--groups', 'wizards', '--data-dir', dataDir]);
    expect(badGroup.stderr).toMatch(/unknown group wizards \(known: admins, hackers, symbol_uploaders\)/);
    const groups = await runMayday(['users', 'groups', '--data-dir', dataDir]);
    expect(groups.stdout).toMatch(/hackers\s+view_protected,download_dumps,reprocess/);
  });
});

describe('protected data, in every endpoint', () => {
  const endpoints = (id: string): string[] => [
    `/api/ProcessedCrash/?crash_id=${id}`,
    `/api/RawCrash/?crash_id=${id}`,
    `/api/RawCrash/?crash_id=${id}&format=meta`,
    `/api/SuperSearch/?uuid=${id}&_columns=uuid&_columns=signature&_columns=product&_facets=product&_facets=signature`,
    `/api/SuperSearch/?product=Example&_facets=signature&_facets=annotation_keys`,
    `/api/MissingSymbols/`,
    `/api/MissingSymbols/?format=csv`,
  ];

  it('never shows a protected value to anonymous viewers or to a token without view_protected', async () => {
    const reprocessor = await token('bot', 'reprocess,download_dumps,upload_symbols');
    for (const headers of [{}, { 'auth-token': reprocessor }] as Record<string, string>[]) {
      for (const url of endpoints(crashId)) {
        const response = await fetch(`${node.url}${url}`, { headers });
        expect(response.status, url).toBeLessThan(500);
        expect(leaks(await response.text()), `${url} as ${Object.keys(headers).length ? 'token' : 'anonymous'}`).toEqual([]);
      }
    }
  });

  it('never shows a protected value on the report page to anonymous viewers or to a token without view_protected', async () => {
    const reprocessor = await token('bot2', 'reprocess,download_dumps');
    for (const headers of [{}, { 'auth-token': reprocessor }] as Record<string, string>[]) {
      const response = await fetch(`${node.url}/report/index/${crashId}`, { headers });
      expect(response.status).toBe(200);
      expect(leaks(await response.text())).toEqual([]);
    }
  });

  it('shows them to a token with view_protected', async () => {
    const viewer = await token('dev', 'view_protected');
    const processed = await (await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${crashId}`, { headers: { 'auth-token': viewer } })).json();
    expect(processed).toMatchObject({ email: PERSONAL.Email, url: PERSONAL.URL });
    const raw = await (await fetch(`${node.url}/api/RawCrash/?crash_id=${crashId}`, { headers: { 'auth-token': viewer } })).json();
    expect(raw).toMatchObject(PERSONAL);
    const search = (await (await fetch(`${node.url}/api/SuperSearch/?uuid=${crashId}&_columns=uuid&_columns=email`, { headers: { 'auth-token': viewer } })).json()) as { hits: unknown[] };
    expect(search.hits).toEqual([{ uuid: crashId, email: PERSONAL.Email }]);
  });

  it('serves the raw dump only with download_dumps', async () => {
    const url = `${node.url}/api/RawCrash/?crash_id=${crashId}&format=raw&name=upload_file_minidump`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { 'auth-token': await token('viewer2', 'view_protected') } })).status).toBe(403);
    const response = await fetch(url, { headers: { 'auth-token': await token('dumper', 'download_dumps') } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${crashId}.dmp"`);
    expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(dump.path))).toBe(true);
  });

  it('logs in over HTTP and refuses a cross-site reprocessing POST carrying only the cookie', async () => {
    const form = await fetch(`${node.url}/login`);
    const loginCookie = form.headers.getSetCookie().find((c) => c.startsWith('mayday_login_csrf='))!.split(';')[0]!;
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(await form.text())![1]!;
    const login = await fetch(`${node.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
      body: new URLSearchParams({ csrf_token: csrf, username: 'root', password: 'the first admin password', next: '/account' }),
    });
    expect(login.status).toBe(303);
    const session = login.headers.getSetCookie().find((c) => c.startsWith('mayday_session='))!.split(';')[0]!;
    const forged = await fetch(`${node.url}/api/Reprocessing/`, { method: 'POST', headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: `crash_ids=${crashId}` });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: string }).error).toMatch(/CSRF/);
    const account = await (await fetch(`${node.url}/account`, { headers: { cookie: session } })).text();
    const sessionCsrf = /name="csrf_token" value="([^"]+)"/.exec(account)![1]!;
    const real = await fetch(`${node.url}/api/Reprocessing/`, { method: 'POST', headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': sessionCsrf }, body: `crash_ids=${crashId}` });
    expect(real.status).toBe(200);
  });
});
