import { describe, expect, it } from 'vitest';
import { frameFromJson, signatureInputFromCrash } from '../../src/signature/input.js';

const jsonDump = {
  crash_info: { type: 'SIGSEGV /SEGV_MAPERR', address: '0x0000000000000010', crashing_thread: 1 },
  crashing_thread: { threads_index: 1, frames: [], registers: { rip: '0x0000000000401000', rsp: '0x00007ffc00001000' } },
  threads: [
    { frames: [{ function: 'idle' }] },
    { last_error_value: 'ERROR_COMMITMENT_LIMIT', frames: [{ function: 'crash_here', module: 'app', module_offset: '0x10', offset: '0x0000000000401000', line: 3, file: 'a.cc', inlines: [{ function: 'inner', file: 'b.h', line: 7 }] }] },
  ],
};

describe('signature input', () => {
  it('reads a stackwalker document: crashing thread, frames, reason, registers', () => {
    const input = signatureInputFromCrash(jsonDump);
    expect(input.crashingThread).toBe(1);
    expect(input.frames?.map((f) => f.function)).toEqual(['crash_here']);
    expect(input.frames?.[0].inlines).toEqual([{ function: 'inner', file: 'b.h', line: 7 }]);
    expect(input).toMatchObject({ reason: 'SIGSEGV /SEGV_MAPERR', address: '0x0000000000000010', stackPointer: '0x00007ffc00001000', instructionPointer: '0x0000000000401000', lastErrorValue: 'ERROR_COMMITMENT_LIMIT' });
  });

  it('reads a processed crash: its own fields win over the document', () => {
    const input = signatureInputFromCrash({
      json_dump: jsonDump,
      crashing_thread: 0,
      reason: 'SIGBUS',
      abort_message: 'boom',
      oom_allocation_size: 4096,
      report_type: 'hang',
      mdsw_status_string: 'OK',
    });
    expect(input.crashingThread).toBe(0);
    expect(input.frames?.map((f) => f.function)).toEqual(['idle']);
    // registers belong to thread 1, not to the crashing thread 0
    expect(input.stackPointer).toBeUndefined();
    expect(input).toMatchObject({ reason: 'SIGBUS', abortMessage: 'boom', oomAllocationSize: 4096, hang: true, stackwalkerStatus: 'OK' });
  });

  it('has no crashing thread without a document, and no frames for a thread that is missing', () => {
    expect(signatureInputFromCrash({ uuid: 'x' })).toMatchObject({ crashingThread: null, frames: null });
    expect(signatureInputFromCrash({ crash_info: { crashing_thread: 5 }, threads: [] })).toMatchObject({ crashingThread: 5, frames: null });
    expect(signatureInputFromCrash({ crash_info: { crashing_thread: 0 }, threads: [{}] })).toMatchObject({ crashingThread: 0, frames: [] });
    expect(signatureInputFromCrash(null)).toMatchObject({ crashingThread: null, frames: null });
    expect(signatureInputFromCrash([1, 2])).toMatchObject({ crashingThread: null });
  });

  it('keeps only well-typed frame fields', () => {
    expect(frameFromJson({ function: 42, module: 'm', line: '7', file: ['x'], inlines: [null, { function: 'f' }] })).toEqual({
      module: 'm',
      function: null,
      function_is_nearest_export: false,
      unloaded_modules: null,
      file: null,
      line: 7,
      module_offset: null,
      offset: null,
      trust: null,
      inlines: [
        { function: null, file: null, line: null },
        { function: 'f', file: null, line: null },
      ],
    });
    expect(frameFromJson('garbage').function).toBeNull();
  });

  it('keeps the unloaded modules of a frame and whether its name is only the nearest export', () => {
    const frame = frameFromJson({ module: null, offset: '0x5000', function: 'x', function_is_nearest_export: true, unloaded_modules: [{ module: 'a.dll', offsets: ['0x10', 7] }, 'junk'] });
    expect(frame.unloaded_modules).toEqual([
      { module: 'a.dll', offsets: ['0x10'] },
      { module: null, offsets: null },
    ]);
    expect(frame.function_is_nearest_export).toBe(true);
    expect(frameFromJson({ function_is_nearest_export: 'yes' }).function_is_nearest_export).toBe(false);
  });
});
