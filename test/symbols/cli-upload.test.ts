import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { collectUploadItems, formatSummary, tallyAnswers, uploadSymbolFiles } from '../../src/cli/commands/symbols.js';
import { runMayday } from '../support/mayday-process.js';
import { CORPUS_SYMBOLS, ID, makeZip, startSymbolsApp, symText, type SymbolsApp } from './support.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'mayday-cli-upload-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

describe('mayday symbols upload (client)', () => {
  let s: SymbolsApp;
  let url: string;
  beforeEach(async () => {
    s = await startSymbolsApp({ maxUploadBytes: 64 * 1024 * 1024, maxUncompressedBytes: 64 * 1024 * 1024, maxFiles: 100 });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(() => s.close());

  it('uploads a directory of .sym files (the corpus) and a zip, with a summary', async () => {
    const zip = path.join(tmp, 'more.zip');
    writeFileSync(zip, makeZip([{ name: `libz.so/${ID}/libz.so.sym`, data: symText('libz.so') }]));
    const items = await collectUploadItems([CORPUS_SYMBOLS, zip]);
    expect(items.filter((i) => i.kind === 'sym')).toHaveLength(7);
    const out = sink();
    const summary = await uploadSymbolFiles(items, { url, token: await s.token(['upload_symbols']), retries: 0, backoffMs: 1, timeoutMs: 10_000, progress: out.stream });
    expect(summary.failed).toEqual([]);
    expect(summary.uploaded).toBe(8);
    expect(out.text()).toContain('[8/8]');
    const appSym = path.join('example-app', '976F2167C7F8BCF5CD91FBC5AEF299110', 'example-app.sym');
    expect(readFileSync(path.join(s.storeDir, appSym))).toEqual(readFileSync(path.join(CORPUS_SYMBOLS, appSym)));
    expect(formatSummary(summary)).toMatch(/^uploaded 8 files, .* 0 failed/);
  });

  it('reports refusals without retrying them', async () => {
    const bad = path.join(tmp, 'bad.sym');
    writeFileSync(bad, symText('libbad.so', ID, 'FUNC nothex 1 0 x\n'));
    const out = sink();
    const summary = await uploadSymbolFiles(await collectUploadItems([bad]), { url, token: await s.token(['upload_symbols']), retries: 3, backoffMs: 1, timeoutMs: 10_000, progress: out.stream });
    expect(summary.failed).toEqual([{ file: bad, error: expect.stringMatching(/HTTP 400: .*line 3/) }]);
    expect(out.text()).not.toContain('retrying');
    const wrongToken = await uploadSymbolFiles(await collectUploadItems([path.join(CORPUS_SYMBOLS, 'libm.so.6')]), { url, token: 'mdy_nope', retries: 3, backoffMs: 1, timeoutMs: 10_000, progress: sink().stream });
    expect(wrongToken.failed[0].error).toMatch(/HTTP 401/);
  });
});

describe('mayday symbols upload reprocesses the crashes that missed the symbols', () => {
  let s: SymbolsApp;
  let url: string;
  beforeEach(async () => {
    s = await startSymbolsApp();
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
    const now = Date.now();
    const mod = (debugFile: string) => ({ debugFile, debugId: ID, codeFile: debugFile, codeId: null });
    await s.missing.record({ crashId: 'c1', submittedAt: now, os: 'Linux', cpu: 'amd64' }, [mod('liba.so'), mod('libb.so')]);
    await s.missing.record({ crashId: 'c2', submittedAt: now, os: 'Linux', cpu: 'amd64' }, [mod('libb.so')]);
  });
  afterEach(() => s.close());

  const twoFiles = () => {
    const dir = mkdtempSync(path.join(tmp, 'two-'));
    writeFileSync(path.join(dir, 'a.sym'), symText('liba.so'));
    writeFileSync(path.join(dir, 'b.sym'), symText('libb.so'));
    return dir;
  };

  it('the real command queues them by default and says so, each crash counted once', async () => {
    const result = await runMayday(['symbols', 'upload', twoFiles(), '--url', url, '--token', await s.token(['upload_symbols', 'reprocess'])]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('2 crashes of the last 7 days missed these symbols; queued for reprocessing');
    expect((await s.queued()).map((q) => q.crashId).sort()).toEqual(['c1', 'c2']);
  });

  it('--no-reprocess only reports them', async () => {
    const result = await runMayday(['symbols', 'upload', twoFiles(), '--url', url, '--token', await s.token(['upload_symbols', 'reprocess']), '--no-reprocess']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('2 crashes of the last 7 days missed these symbols; not queued (--no-reprocess)');
    expect(await s.queued()).toEqual([]);
  });

  it('says why a token without reprocess did not queue them', async () => {
    const summary = await uploadSymbolFiles(await collectUploadItems([twoFiles()]), { url, token: await s.token(['upload_symbols']), retries: 0, backoffMs: 1, timeoutMs: 10_000, reprocess: true, progress: sink().stream });
    expect(summary).toMatchObject({ uploaded: 2, crashesMissing: 2, queued: 0 });
    expect(formatSummary(summary)).toContain('not queued: queueing them needs the reprocess permission');
    expect(await s.queued()).toEqual([]);
  });

  it('tallies answers: listed crashes once, unlisted ones summed, old servers ignored', () => {
    expect(tallyAnswers([{ crashes_missing: 1, crash_ids: ['a'], queued_for_reprocessing: 1 }, { crashes_missing: 2, crash_ids: ['a', 'b'], queued_for_reprocessing: 2 }, {}])).toMatchObject({ crashesMissing: 2, queued: 2 });
    expect(tallyAnswers([{ crashes_missing: 5000, crash_ids: ['a'], queued_for_reprocessing: 5000 }, { crashes_missing: 1, crash_ids: ['a'] }])).toMatchObject({ crashesMissing: 5001, queued: 5000 });
  });
});

describe('retries', () => {
  it('retries 5xx and connection errors with backoff, then succeeds', async () => {
    let calls = 0;
    const server = http.createServer((request, response) => {
      calls++;
      request.resume();
      request.on('end', () => {
        if (calls === 1) return request.socket.destroy();
        if (calls === 2) return void response.writeHead(503).end('{"error":"busy"}');
        response.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const dir = path.join(tmp, 'one');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.sym'), symText('liba.so'));
    const out = sink();
    const summary = await uploadSymbolFiles(await collectUploadItems([dir]), { url: `http://127.0.0.1:${port}`, token: 't', retries: 3, backoffMs: 5, timeoutMs: 5000, progress: out.stream });
    server.close();
    expect(summary.uploaded).toBe(1);
    expect(calls).toBe(3);
    expect(out.text().match(/retrying/g)).toHaveLength(2);
  });
});
