import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { target } from '../../scripts/fuzz/targets/zip.js';
import { startSymbolsApp, type SymbolsApp } from '../symbols/support.js';
import { replay, runFuzzer, savedFindings } from './support.js';

/** A hang shows as this instead of an answer (the upload itself takes milliseconds). */
const HANG_MS = 3000;

function withinHangBound<T>(work: Promise<T>): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), HANG_MS);
  });
  return Promise.race([work, hung]).finally(() => clearTimeout(timer));
}

describe('fuzzing symbol upload zips', () => {
  it('runs 1,500 executions of npm run fuzz:zip without a finding', async () => {
    const run = await runFuzzer('zip', 1500, 20261201);
    expect(run.summary.findings, run.output).toEqual([]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.summary.status?.runs).toBe(1500);
  }, 60_000);

  for (const { name, input } of savedFindings('zip')) {
    // hang-f0889a4eaad5: busboy's hang below, found before symbol uploads moved to Mayday's
    // own reader. *-9ad2c6f3fcd8: a zip64 offset past 2^53 (docs/security.md, finding 10).
    it(`replays finding ${name} cleanly`, async () => {
      expect(await withinHangBound(replay(target, input).then(() => 'answered'))).toBe('answered');
    });
  }
});

// Found by the fuzzer (zip target, multipart form): busboy 1.6.0 never finishes a form in
// which delimiters follow the closing one and the body then ends inside a file part, so
// `receiveUpload` awaits forever and the request hangs (its staging folder and open file
// with it). Fixed: symbol uploads read forms with the collector's multipart reader
// (src/common/multipart.ts), which ignores what follows the closing delimiter.
describe('POST /symbols/upload with parts after the closing delimiter', () => {
  let s: SymbolsApp;
  beforeEach(async () => {
    s = await startSymbolsApp();
  });
  afterEach(async () => {
    await s.close();
  });

  const file = 'Content-Disposition: form-data; name="symbol_file"; filename="x.sym"\r\n\r\nMODULE Linux x86_64 ABCDEF0123456789ABCDEF0123456789A x\n';
  it.each([
    ['an empty part then an unterminated file', `--b--\r\n--b\r\n--b\r\n${file}`],
    ['a field then an unterminated file', `--b--\r\n--b\r\nContent-Disposition: form-data; name="os"\r\n\r\nLinux\r\n--b\r\n${file}`],
  ])('is refused with 400, not left hanging: %s', async (_label, body) => {
    const response = await withinHangBound(
      s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': 'multipart/form-data; boundary=b', 'auth-token': await s.token(['upload_symbols']) }, payload: body }),
    );
    expect(response).not.toBe('hung');
    expect(response !== 'hung' && response.statusCode).toBe(400);
  });
});
