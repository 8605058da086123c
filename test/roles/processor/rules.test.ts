import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contextFor } from './context.js';
import { runRules, type Stackwalker } from '../../../src/roles/processor/rule.js';
import { annotationFieldsRule, cleanAnnotationsRule, collectorNotesRule, processTypeRule, submissionFactsRule } from '../../../src/roles/processor/rules/annotations.js';
import { crashTimesRule, identifiersRule } from '../../../src/roles/processor/rules/identity.js';
import {
  crashingThreadInfoRule,
  MAX_FRAMES_PER_THREAD,
  modulesInStackRule,
  stackwalkRule,
  topmostFilenamesRule,
  truncateStacksRule,
} from '../../../src/roles/processor/rules/stack.js';
import { osPrettyVersionRule, prettyOsVersion } from '../../../src/roles/processor/rules/system.js';
import { defaultRuleset, rulesets } from '../../../src/roles/processor/rules.js';
import { RULESET_NAMES } from '../../../src/schema/rulesets.js';
import { createEngineStackwalker } from '../../../src/node/engine-stackwalker.js';
import { CORPUS } from '../../support/corpus.js';

describe('annotation rules', () => {
  it('strip NUL bytes and drop empty values, without touching the stored raw crash', async () => {
    const context = contextFor({ ProductName: 'Ex\0ample\0', Empty: '  ', Version: '1.0' });
    await cleanAnnotationsRule.act(context);
    expect(context.annotations).toEqual({ ProductName: 'Example', Version: '1.0' });
    expect(context.raw.annotations.ProductName).toBe('Ex\0ample\0');
    expect(context.notes).toEqual(['removed NUL bytes from 1 annotation']);
  });

  it('record annotation keys, dump names and checksums, and the report type', async () => {
    const dump = new Uint8Array([1]);
    const crash = contextFor({ B: '1', A: '2' }, { dumps: { upload_file_minidump: dump, upload_file_minidump_browser: dump } });
    await submissionFactsRule.act(crash);
    expect(crash.processed).toMatchObject({
      annotation_keys: ['A', 'B'],
      dump_names: ['upload_file_minidump', 'upload_file_minidump_browser'],
      dump_checksums: { upload_file_minidump: 'sha-of-upload_file_minidump' },
      report_type: 'crash',
    });
    const hang = contextFor({ Hang: '1' }, { dumps: { upload_file_minidump: dump } });
    await submissionFactsRule.act(hang);
    expect(hang.processed.report_type).toBe('hang');
    const noDump = contextFor({ A: '1' });
    await submissionFactsRule.act(noDump);
    expect(noDump.processed.report_type).toBe('no-dump');
  });

  it('copy annotations into typed fields as the schema declares, noting values that do not convert', async () => {
    const context = contextFor({ ProductName: 'Example', Version: '2.1', OOMAllocationSize: '1048576', SecondsSinceLastCrash: 'soon', URL: 'https://x', UserComments: 'it broke' });
    await annotationFieldsRule.act(context);
    expect(context.processed).toMatchObject({ product: 'Example', version: '2.1', oom_allocation_size: 1048576, url: 'https://x', user_comments: 'it broke' });
    expect(context.processed.last_crash).toBeUndefined();
    expect(context.notes).toEqual(['annotation SecondsSinceLastCrash: "soon" is not a valid integer']);
  });

  it('call the main process "parent", as Socorro does', async () => {
    for (const [given, expected] of [[undefined, 'parent'], ['browser', 'parent'], ['renderer', 'renderer'], ['GPU', 'gpu']] as const) {
      const context = contextFor({}, { processed: given ? { process_type: given } : {} });
      await processTypeRule.act(context);
      expect(context.processed.process_type).toBe(expected);
    }
  });

  it('carry collector notes into processor notes', async () => {
    const context = contextFor({});
    context.raw.metadata.collector_notes.push('upload_file_minidump is not a minidump (no MDMP signature)');
    await collectorNotesRule.act(context);
    expect(context.notes).toEqual(['collector: upload_file_minidump is not a minidump (no MDMP signature)']);
  });
});

describe('identity and time rules', () => {
  it('set identifiers and processing dates', async () => {
    const context = contextFor({});
    await identifiersRule.act(context);
    expect(context.processed).toMatchObject({ uuid: context.crashId, started_datetime: '2026-11-28T10:00:01.000Z', date_processed: '2026-11-28T10:00:01.000Z' });
  });

  it('derive crash time, uptime and install age from the annotations', async () => {
    const context = contextFor({ CrashTime: '1795860000', StartupTime: '1795859940', InstallTime: '1795773600' });
    await crashTimesRule.act(context);
    expect(context.processed).toMatchObject({ crash_time: new Date(1795860000 * 1000).toISOString(), uptime: 60, install_age: 86400 });
  });

  it('fall back to the submission time, and note bad times', async () => {
    const context = contextFor({ StartupTime: 'yesterday' });
    await crashTimesRule.act(context);
    expect(context.processed.crash_time).toBe('2026-11-28T10:00:00.000Z');
    expect(context.processed.uptime).toBeUndefined();
    expect(context.notes[0]).toContain('StartupTime');
  });
});

function fakeJsonDump(frames: { module?: string; function?: string; file?: string }[], extra: Record<string, unknown> = {}) {
  return {
    thread_count: 2,
    threads: [{ thread_name: 'main', frames }, { thread_name: 'worker', frames: [] }],
    modules: [
      { filename: 'app', debug_file: 'app', debug_id: 'AAA0' },
      { filename: 'libc.so.6', debug_file: 'libc.so.6', debug_id: 'BBB0' },
    ],
    ...extra,
  };
}

describe('stack rules', () => {
  it('stackwalk the main dump and lift system and crash fields', async () => {
    const walker: Stackwalker = async (bytes) => ({
      jsonDump: { system_info: { os: 'Linux', os_ver: '5.0', cpu_arch: 'amd64', cpu_info: 'x', cpu_count: 4 }, crash_info: { type: 'SIGSEGV', address: '0x0', crashing_thread: 0 }, bytes: bytes.length },
      errors: ['thread 7: no stack memory'],
    });
    const context = contextFor({}, { dumps: { upload_file_minidump: new Uint8Array(10) } });
    await runRules([stackwalkRule(walker)], context);
    expect(context.processed).toMatchObject({ os_name: 'Linux', cpu_count: 4, reason: 'SIGSEGV', crashing_thread: 0, mdsw_status_string: 'thread 7: no stack memory' });
    expect(context.notes).toEqual(['stackwalk: thread 7: no stack memory']);
    const none = contextFor({});
    await runRules([stackwalkRule(walker)], none);
    expect(none.notes).toEqual(['no minidump in the submission']);
    expect(none.processed.json_dump).toBeUndefined();
  });

  it('record the crashing thread name and thread count', async () => {
    const context = contextFor({}, { processed: { crashing_thread: 0, json_dump: fakeJsonDump([]) } });
    await crashingThreadInfoRule.act(context);
    expect(context.processed).toMatchObject({ thread_count: 2, crashing_thread_name: 'main' });
  });

  it('truncate very long stacks, keeping the top and the bottom', async () => {
    const frames = Array.from({ length: 2000 }, (_, i) => ({ function: `f${i}` }));
    const context = contextFor({}, { processed: { crashing_thread: 0, json_dump: fakeJsonDump(frames) } });
    await truncateStacksRule.act(context);
    const kept = (context.processed.json_dump as ReturnType<typeof fakeJsonDump>).threads[0];
    expect(kept.frames).toHaveLength(MAX_FRAMES_PER_THREAD);
    expect(kept.frames[0].function).toBe('f0');
    expect(kept.frames.at(-1)!.function).toBe('f1999');
    expect(context.processed.stackwalk_truncated).toBe(true);
  });

  it('list the modules in the crashing stack and its topmost source files', async () => {
    const frames = [
      { module: 'libc.so.6', function: 'raise' },
      { module: 'app', function: 'crash', file: 'src/crash.cc' },
      { module: 'app', function: 'main', file: 'src/main.cc' },
      { module: 'app', function: 'main2', file: 'src/main.cc' },
    ];
    const context = contextFor({}, { processed: { crashing_thread: 0, json_dump: fakeJsonDump(frames) } });
    await runRules([modulesInStackRule, topmostFilenamesRule], context);
    expect(context.processed.modules_in_stack).toEqual(['libc.so.6/BBB0', 'app/AAA0']);
    expect(context.processed.topmost_filenames).toEqual(['src/crash.cc', 'src/main.cc']);
  });
});

describe('OS pretty version', () => {
  it.each([
    ['Windows NT', '10.0.19045', 'Windows 10'],
    ['Windows NT', '10.0.22631', 'Windows 11'],
    ['Windows NT', '6.1.7601 Service Pack 1', 'Windows 7'],
    ['Windows NT', '5.1.2600', 'Windows XP'],
    ['Mac OS X', '14.2.1 23C71', 'macOS 14.2'],
    ['Mac OS X', '10.11.6 15G31', 'OS X 10.11'],
    ['iOS', '17.1 21B80', 'iOS 17.1'],
    ['Linux', '0.0.0 Linux 6.1.0', 'Linux'],
  ])('%s %s is %s', (os, version, pretty) => {
    expect(prettyOsVersion(os, version)).toBe(pretty);
  });

  it('uses lsb-release on Linux', async () => {
    const context = contextFor({}, { processed: { os_name: 'Linux', os_version: '0.0.0 Linux', json_dump: { lsb_release: { description: 'Ubuntu 22.04.3 LTS' } } } });
    await osPrettyVersionRule.act(context);
    expect(context.processed.os_pretty_version).toBe('Ubuntu 22.04.3 LTS');
  });
});

describe('rulesets', () => {
  it('note a rule that throws and run the others', async () => {
    const context = contextFor({ ProductName: 'Example' });
    const timings = await runRules([{ name: 'boom', act: () => { throw new Error('kaput'); } }, annotationFieldsRule], context);
    expect(context.notes).toEqual(['rule boom failed: kaput']);
    expect(context.processed.product).toBe('Example');
    expect(timings.map((t) => [t.rule, t.failed])).toEqual([['boom', true], ['annotation fields', false]]);
  });

  it('turn a real corpus dump into a processed crash with the default ruleset', async () => {
    const stackwalk = createEngineStackwalker({ symbolPaths: [join(CORPUS, 'symbols')], cacheBytes: 64 * 1024 * 1024 });
    const dump = new Uint8Array(readFileSync(join(CORPUS, 'dumps/example-app-null.dmp')));
    const context = contextFor({ ProductName: 'Example', Version: '1.0' }, { dumps: { upload_file_minidump: dump } });
    await runRules(defaultRuleset(stackwalk), context);
    expect(context.notes).toEqual([]);
    expect(context.processed).toMatchObject({
      product: 'Example',
      os_name: 'Linux',
      os_pretty_version: 'Linux',
      reason: 'SIGSEGV /SEGV_MAPERR',
      crashing_thread: 0,
      thread_count: 4,
      report_type: 'crash',
      process_type: 'parent',
    });
    expect(context.processed.topmost_filenames).toContain('/srv/example-app/crasher.cc');
    expect(String(context.processed.signature)).toMatch(/crash_null_deref/);
  });

  it('offer a signature-only ruleset that refines the stored crash', () => {
    const sets = rulesets(async () => ({ jsonDump: {}, errors: [] }));
    expect([...sets.keys()]).toEqual([...RULESET_NAMES]);
    expect(sets.get('signature')!.fromProcessed).toBe(true);
    expect(sets.get('signature')!.rules.map((r) => r.name)).toContain(sets.get('default')!.rules.at(-1)!.name);
  });
});
