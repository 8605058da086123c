import { describe, expect, it } from 'vitest';
import { runRules } from '../../src/roles/processor/rule.js';
import { defaultRuleset, rulesets } from '../../src/roles/processor/rules.js';
import { signatureRule } from '../../src/roles/processor/signature-rule.js';
import { compileSignatureLists } from '../../src/signature/lists.js';
import { contextFor } from '../roles/processor/context.js';

const lists = compileSignatureLists({ sentinel: '', irrelevant: 'raise$', prefix: 'memcpy$', 'line-number': '' });

const jsonDump = {
  crash_info: { type: 'SIGSEGV', address: '0x0', crashing_thread: 0 },
  threads: [{ frames: [{ function: 'raise' }, { function: 'memcpy' }, { function: 'copy_pixels(Image*, int)' }, { function: 'main' }] }],
};

describe('signature rule', () => {
  it('sets signature, proto_signature and signature_debug from the processed crash', async () => {
    const context = contextFor({}, { processed: { json_dump: jsonDump, crashing_thread: 0 } });
    await runRules([signatureRule(lists)], context);
    expect(context.processed.signature).toBe('memcpy | copy_pixels');
    expect(context.processed.proto_signature).toBe('raise | memcpy | copy_pixels | main');
    expect(context.processed.signature_debug).toEqual([
      'frame 0 "raise": skipped, irrelevant (irrelevant.txt:1 /raise$/)',
      'frame 1 "memcpy": prefix (prefix.txt:1 /memcpy$/): kept and combined with the next frame',
      'frame 2 "copy_pixels": kept; not a prefix, so the signature ends here',
      'frame 3: not needed, the signature is complete',
    ]);
    expect(context.notes).toEqual([]);
  });

  it('uses the processed fields that change signatures', async () => {
    const context = contextFor({}, { processed: { json_dump: jsonDump, crashing_thread: 0, abort_message: 'bad pixel', report_type: 'hang' } });
    await runRules([signatureRule(lists)], context);
    expect(context.processed.signature).toBe('Abort | bad pixel | hang | memcpy | copy_pixels');
  });

  it('notes why a signature is empty, unless there was no dump at all', async () => {
    const empty = contextFor({}, { processed: { json_dump: { crash_info: { crashing_thread: null }, threads: [] } } });
    await runRules([signatureRule(lists)], empty);
    expect(empty.processed.signature).toBe('EMPTY: no crashing thread identified');
    expect(empty.notes).toEqual(['signature: no signature from frames: the dump does not say which thread crashed']);
    const noDump = contextFor({});
    await runRules([signatureRule(lists)], noDump);
    expect(noDump.processed.signature).toBe('EMPTY: no crashing thread identified');
    expect(noDump.notes).toEqual([]);
  });

  it('is the last rule of the default ruleset, with the default lists, and the signature ruleset reuses it', async () => {
    const stackwalk = async () => ({ jsonDump: { crash_info: { type: 'SIGABRT', crashing_thread: 0 }, threads: [{ frames: [{ function: 'raise' }, { function: 'abort' }, { function: 'fail_hard()' }] }] }, errors: [] });
    const rules = defaultRuleset(stackwalk);
    expect(rules.at(-1)!.name).toBe('signature');
    const context = contextFor({}, { processed: { json_dump: (await stackwalk()).jsonDump, crashing_thread: 0 } });
    await runRules([rules.at(-1)!], context);
    expect(context.processed.signature).toBe('fail_hard');
    expect(rulesets(stackwalk).get('signature')!.rules.map((r) => r.name)).toContain('signature');
  });
});
