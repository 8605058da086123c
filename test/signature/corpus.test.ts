/**
 * Signatures of real crashes: the project corpus (Breakpad's Linux client, full symbols)
 * run through the engine exactly as the processor does, and the public corpus when it is
 * present next to the project.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toJsonDump } from '../../src/minidump/output/index.js';
import { processMinidump } from '../../src/minidump/process/index.js';
import { readMinidump } from '../../src/minidump/reader/index.js';
import { loadSignatureLists } from '../../src/roles/processor/signature-rule.js';
import { generateSignature, signatureInputFromCrash, type SignatureResult } from '../../src/signature/index.js';
import { directorySupplier } from '../minidump/process/dir-supplier.js';
import { CORPUS } from '../support/corpus.js';
import { PROJECT_ROOT } from '../support/mayday-process.js';

const lists = loadSignatureLists();

async function signatureOf(dumpPath: string, symbols: string): Promise<SignatureResult> {
  const state = await processMinidump(readMinidump(new Uint8Array(readFileSync(dumpPath))), directorySupplier(symbols));
  return generateSignature(signatureInputFromCrash(toJsonDump(state)), lists);
}

const corpusDump = (name: string) => signatureOf(join(CORPUS, 'dumps', `${name}.dmp`), join(CORPUS, 'symbols'));

describe('signatures of the project corpus', () => {
  it.each(['example-app-null', 'example-app-debug-null', 'example-app-thread', 'example-app-debug-thread'])('%s starts at crash_null_deref', async (name) => {
    const result = await corpusDump(name);
    expect(result.signature).toBe('crash_null_deref');
    expect(result.protoSignature).toMatch(/^crash_null_deref \| layout_frame \| layout_frame \| /);
  });

  it.each(['example-app-abort', 'example-app-debug-abort'])("%s skips libc's abort machinery", async (name) => {
    const result = await corpusDump(name);
    expect(result.signature).toBe('do_abort');
    // __pthread_kill_implementation, which libc does not export, is named after the export
    // below it (pthread_key_delete) by Breakpad; its unwind record says otherwise, so the
    // signature sees libc.so.6@offset, as for a module without symbols.
    expect(result.protoSignature).toMatch(/^libc\.so\.6@0x8aeec \| gsignal \| abort \| do_abort \| main \| libc\.so\.6@0x27249 \| __libc_start_main/);
    expect(result.debug).toContain('frame 1 "gsignal": dropped, above the sentinel frame 2');
  });

  it.each(['example-app-overflow', 'example-app-debug-overflow'])('%s is a stack overflow in recurse_forever', async (name) => {
    expect((await corpusDump(name)).signature).toBe('stack overflow | recurse_forever');
  });

  it.each(['example-app-divzero', 'example-app-debug-divzero'])('%s is div_zero', async (name) => {
    expect((await corpusDump(name)).signature).toBe('div_zero');
  });

  it.each(['example-app-badcall', 'example-app-debug-badcall'])('%s skips the wild jump and names the caller', async (name) => {
    const result = await corpusDump(name);
    expect(result.signature).toBe('main');
    expect(result.protoSignature).toMatch(/^@0x1234 \| main/);
  });
});

const PUBLIC = resolve(PROJECT_ROOT, '../shared/corpus/public');
const hasPublic = existsSync(join(PUBLIC, 'manifest.json'));

interface ManifestEntry {
  file: string;
  symbol_path?: string;
  reference: string;
}

describe.skipIf(!hasPublic)('signatures of the public corpus (../shared/corpus/public; skipped when absent)', () => {
  const publicDump = (file: string, symbols: string) => signatureOf(join(PUBLIC, file), join(PUBLIC, symbols));

  it.each([
    ['google-breakpad/linux_inline.dmp', 'google-breakpad/symbols', 'func'],
    ['google-breakpad/minidump2.dmp', 'google-breakpad/symbols', '(anonymous namespace)::CrashFunction'],
    ['google-breakpad/linux_null_read_av.dmp', 'google-breakpad/symbols', 'crash'],
    ['google-breakpad/linux_jmp_to_0.dmp', 'google-breakpad/symbols', /^@0x0 \| driver@0x[0-9a-f]+$/],
    ['google-breakpad/stack_exhaustion.dmp', 'google-breakpad/symbols', /^stack overflow \| crashme\.exe@/],
    ['rust-minidump/pipeline-inlines-macos-segv.dmp', 'rust-minidump/symbols', 'sadness_generator::raise_segfault'],
    ['bugsplat-node-minidump-stackwalk/minidump.dmp', 'bugsplat-node-minidump-stackwalk/symbols', 'MainWindow::on_pushButton_clicked'],
    // sentry-native's example without symbols: its own frames are not the Sentry SDK's (`function:sentry_`)
    ['getsentry-sentry-native/minidump.dmp', 'getsentry-sentry-native/symbols', /^vcruntime140d\.dll \| sentry_example\.exe@0x[0-9a-f]+$/],
  ] as const)('%s → %s', async (file, symbols, expected) => {
    const { signature } = await publicDump(file, symbols);
    if (typeof expected === 'string') expect(signature).toBe(expected);
    else expect(signature).toMatch(expected);
  });

  it("keeps sentry_example.exe's unsymbolicated frames, which the Sentry SDK's entry once skipped", async () => {
    const result = await publicDump('getsentry-sentry-native/minidump.dmp', 'getsentry-sentry-native/symbols');
    expect(result.protoSignature).toMatch(/^vcruntime140d\.dll@0x20476 \| sentry_example\.exe@0x/);
    expect(result.debug.find((line) => line.startsWith('frame 1 '))).toMatch(/^frame 1 "sentry_example\.exe@0x[0-9a-f]+": kept; not a prefix/);
  });

  it('does not call code run from the stack a stack overflow', async () => {
    expect((await publicDump('google-breakpad/exec_av_on_stack.dmp', 'google-breakpad/symbols')).signature).not.toMatch(/stack overflow/);
  });

  it('gives every dump the reference could process a non-empty, printable signature', async () => {
    const manifest = JSON.parse(readFileSync(join(PUBLIC, 'manifest.json'), 'utf8')) as { dumps: ManifestEntry[] };
    for (const entry of manifest.dumps.filter((d) => d.reference === 'ok')) {
      const { signature } = await publicDump(entry.file, entry.symbol_path ?? 'none');
      expect(signature, entry.file).toMatch(/^\S/);
      expect([...signature].length, entry.file).toBeLessThanOrEqual(255);
    }
  });
});
