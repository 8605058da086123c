import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/mayday-process.js';
import { parseSymbolFile } from '../../src/minidump/symbols/index.js';
import { target } from '../../scripts/fuzz/targets/sym.js';
import { replay, runFuzzer, savedFindings } from './support.js';

describe('fuzzing the .sym parser', () => {
  it('runs 2,000 executions of npm run fuzz:sym without a finding', async () => {
    const run = await runFuzzer('sym', 2000, 20261201);
    expect(run.summary.findings, run.output).toEqual([]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.summary.status?.runs).toBe(2000);
    // The mutations reach deep into the code, or this run would prove little. The shared
    // public corpus (absent from a bare clone) seeds record kinds the project's own lacks.
    const { branchesCovered, branchesTotal } = run.summary.status!.coverage;
    const withPublicCorpus = existsSync(new URL('../shared/corpus/public', `file://${PROJECT_ROOT}`));
    expect(branchesCovered / branchesTotal).toBeGreaterThan(withPublicCorpus ? 0.6 : 0.5);
  }, 60_000);

  for (const { name, input } of savedFindings('sym')) {
    it(`replays finding ${name} cleanly`, async () => {
      await replay(target, input);
    });
  }

  // Found by the fuzzer: a file of blank lines whose last line has no line break (a lone
  // "\r") was reported as empty at the line after its last.
  it.each(['\r', '\r\r', '\n\r', '\r\n\r', '\n\n\r\r', '', '\n', '\r\n'])('reports a blank file (%j) at one of its lines', (text) => {
    const lines = text.split('\n').length;
    const bytes = new TextEncoder().encode(text);
    const strict = parseSymbolFile(bytes);
    expect(strict.status).toBe('corrupt');
    const line = Number(/^line (\d+): no MODULE record/.exec(strict.status === 'corrupt' ? strict.error : '')?.[1]);
    expect(line).toBeGreaterThanOrEqual(1);
    expect(line).toBeLessThanOrEqual(lines);
    const lenient = parseSymbolFile(bytes, { allowMissingModule: true });
    expect(lenient.status === 'parsed' && lenient.errors.map((e) => e.line)).toEqual([line]);
  });
});
