import { describe, expect, it } from 'vitest';
import { generateSignature, MAX_FRAMES_CONSIDERED } from '../../src/signature/generator.js';
import type { SignatureInput } from '../../src/signature/input.js';
import { compileSignatureLists } from '../../src/signature/lists.js';
import type { StackFrameInput } from '../../src/signature/normalize.js';
import { abortMessagePart, oomEvidence, stackOverflowEvidence } from '../../src/signature/special-cases.js';
import { fixSignatureWhitespace, truncateSignature } from '../../src/signature/text.js';

const lists = compileSignatureLists({
  sentinel: 'abort$',
  irrelevant: 'abort$\nraise$\n@0x[1-9a-f]',
  prefix: 'memcpy$\n__assert_fail$',
  'line-number': 'interpret$',
});

const frames = (...names: string[]): StackFrameInput[] => names.map((name) => ({ function: name }));
const crash = (input: Partial<SignatureInput>): SignatureInput => ({ crashingThread: 0, frames: frames('crash_here(int)', 'main'), ...input });

describe('signature generation', () => {
  it('joins the walked frames with " | " and lists every normalised frame in the proto signature', () => {
    const result = generateSignature(crash({ frames: frames('raise', 'memcpy', 'copy(char*, int)', 'main') }), lists);
    expect(result.signature).toBe('memcpy | copy');
    expect(result.protoSignature).toBe('raise | memcpy | copy | main');
    expect(result.notes).toEqual([]);
    expect(result.debug).toContain('frame 1 "memcpy": prefix (prefix.txt:1 /memcpy$/): kept and combined with the next frame');
  });

  it('explains an unknown crashing thread and a thread without frames', () => {
    const noThread = generateSignature({ crashingThread: null, frames: null }, lists);
    expect(noThread.signature).toBe('EMPTY: no crashing thread identified');
    expect(noThread.protoSignature).toBe('');
    expect(noThread.notes).toHaveLength(1);
    expect(generateSignature({ crashingThread: 3, frames: [] }, lists).signature).toBe('EMPTY: no frame data available');
    expect(generateSignature({ crashingThread: 3, frames: null }, lists).signature).toBe('EMPTY: no frame data available');
  });

  it('appends the stackwalker problem to an empty signature only', () => {
    expect(generateSignature({ crashingThread: null, frames: null, stackwalkerStatus: 'ERROR_NO_THREAD_LIST_STREAM' }, lists).signature).toBe('EMPTY: no crashing thread identified; ERROR_NO_THREAD_LIST_STREAM');
    expect(generateSignature({ crashingThread: null, frames: null, stackwalkerStatus: 'OK' }, lists).signature).toBe('EMPTY: no crashing thread identified');
    expect(generateSignature(crash({ stackwalkerStatus: 'thread 3: no stack memory' }), lists).signature).toBe('crash_here');
  });

  it('falls back to the first frame when every frame is irrelevant', () => {
    const result = generateSignature(crash({ frames: frames('raise', 'abort') }), lists);
    expect(result.signature).toBe('abort');
    expect(result.notes[0]).toMatch(/irrelevant/);
  });

  it('considers only the first 40 frames, inline frames included', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ function: `memcpy`, inlines: i === 0 ? [{ function: 'inlined_one' }] : null }));
    const walked = generateSignature(crash({ frames: [{ function: 'raise' }, ...many] }), lists);
    expect(walked.protoSignature.split(' | ')).toHaveLength(MAX_FRAMES_CONSIDERED);
    expect(walked.protoSignature.split(' | ').slice(0, 3)).toEqual(['raise', 'inlined_one', 'memcpy']);
    expect(walked.signature).toBe('inlined_one');
  });

  it('appends the line for functions in the line-number list', () => {
    expect(generateSignature(crash({ frames: [{ function: 'interpret(Vm*)', file: 'vm.c', line: 812 }] }), lists).signature).toBe('interpret:812');
  });

  it('marks hangs and stack overflows', () => {
    expect(generateSignature(crash({ hang: true }), lists).signature).toBe('hang | crash_here');
    const overflow = generateSignature(crash({ reason: 'SIGSEGV /SEGV_MAPERR', address: '0x00007ffc3aa84f20', stackPointer: '0x00007ffc3aa84f28' }), lists);
    expect(overflow.signature).toBe('stack overflow | crash_here');
    expect(overflow.debug.at(-1)).toMatch(/^stack overflow \(SIGSEGV \/SEGV_MAPERR at 0x00007ffc3aa84f20, next to the stack pointer/);
    expect(generateSignature(crash({ reason: 'EXCEPTION_STACK_OVERFLOW' }), lists).signature).toBe('stack overflow | crash_here');
    expect(generateSignature(crash({ reason: 'SIGSEGV /SEGV_MAPERR', address: '0x0', stackPointer: '0x00007ffc3aa84f28' }), lists).signature).toBe('crash_here');
  });

  it('prefixes OOM crashes by allocation size', () => {
    expect(generateSignature(crash({ oomAllocationSize: 1024 }), lists).signature).toBe('OOM | small');
    expect(generateSignature(crash({ oomAllocationSize: 262144 }), lists).signature).toBe('OOM | small');
    expect(generateSignature(crash({ oomAllocationSize: 262145 }), lists).signature).toBe('OOM | large | crash_here');
    const thrown = generateSignature(crash({ frames: frames('raise', 'abort', 'std::__throw_bad_alloc()', 'operator new(unsigned long)', 'grow(int)') }), lists);
    expect(thrown.signature).toMatch(/^OOM \| unknown \| /);
    expect(generateSignature(crash({ lastErrorValue: 'ERROR_COMMITMENT_LIMIT' }), lists).signature).toBe('OOM | unknown | crash_here');
  });

  it('prefixes abort messages, shortened and without source locations', () => {
    expect(generateSignature(crash({ abortMessage: 'index out of range' }), lists).signature).toBe('Abort | index out of range | crash_here');
    expect(generateSignature(crash({ oomAllocationSize: 10, abortMessage: 'out of memory' }), lists).signature).toBe('Abort | out of memory | OOM | small');
    expect(generateSignature(crash({ abortMessage: '###!!! ABORT: file /src/foo.cpp:12' }), lists).signature).toBe('Abort | crash_here');
  });

  it('cleans whitespace and non-printable characters and truncates to 255 characters', () => {
    expect(generateSignature(crash({ frames: frames('weird\u0000\u0007name\u200b(int)') }), lists).signature).toBe('weirdname');
    const long = generateSignature(crash({ frames: frames(`${'x'.repeat(300)}(int)`) }), lists);
    expect(long.signature).toHaveLength(255);
    expect(long.signature.endsWith('...')).toBe(true);
    expect(long.notes).toContain('signature truncated to 255 characters');
    expect(long.protoSignature).toHaveLength(300);
  });
});

describe('special cases', () => {
  it('recognise stack overflows from the reason or a fault next to the stack pointer', () => {
    expect(stackOverflowEvidence('EXCEPTION_STACK_OVERFLOW', undefined, undefined)).toBeDefined();
    expect(stackOverflowEvidence('SIGSEGV /SEGV_MAPERR', '0x7fff08e19f9c', '0x7fff08e19f90')).toBeDefined();
    expect(stackOverflowEvidence('EXC_BAD_ACCESS / KERN_INVALID_ADDRESS', '0x7fff08e0a000', '0x7fff08e19f90')).toBeDefined();
    // too far below, a null dereference, another signal, code run from the stack
    expect(stackOverflowEvidence('SIGSEGV /SEGV_MAPERR', '0x7fff08d00000', '0x7fff08e19f90')).toBeUndefined();
    expect(stackOverflowEvidence('SIGSEGV /SEGV_MAPERR', '0x0', '0x7fff08e19f90')).toBeUndefined();
    expect(stackOverflowEvidence('SIGABRT', '0x7fff08e19f90', '0x7fff08e19f90')).toBeUndefined();
    expect(stackOverflowEvidence('SIGSEGV /SEGV_ACCERR', '0x7fff08e19f00', '0x7fff08e19f90', '0x7fff08e19f00')).toBeUndefined();
    expect(stackOverflowEvidence('EXCEPTION_ACCESS_VIOLATION_EXEC', '0x7fff08e19f00', '0x7fff08e19f90')).toBeUndefined();
    expect(stackOverflowEvidence('SIGSEGV', 'nonsense', '0x7fff08e19f90')).toBeUndefined();
  });

  it('recognise out-of-memory crashes from frames', () => {
    expect(oomEvidence(['abort', 'alloc::alloc::handle_alloc_error', 'main'], undefined, undefined)?.because).toMatch(/frame 1/);
    expect(oomEvidence(['__cxa_throw', 'operator new', 'grow'], undefined, undefined)?.because).toMatch(/operator new/);
    expect(oomEvidence(['partition_alloc::internal::OnNoMemoryInternal'], undefined, undefined)).toBeDefined();
    expect(oomEvidence(['__cxa_throw', 'parse'], undefined, undefined)).toBeUndefined();
    expect(oomEvidence(['main'], 5, undefined)).toEqual({ size: 5, because: 'oom_allocation_size is 5' });
  });

  it.each([
    ['plain message', 'plain message'],
    ['###!!! ABORT: bad state: file /src/foo.cpp:12', 'bad state'],
    ['###!!! ABORT: file /src/foo.cpp:12', ''],
    ['assertion failed: x > 0 (src/lib.rs:10:5)', 'assertion failed: x > 0'],
    ['panicked at src/main.rs:10:5: index out of bounds', 'panicked: index out of bounds'],
    ['Check failed: ptr. at ../../base/foo.cc:42', 'Check failed: ptr.'],
    ['first line\nsecond line with detail', 'first line'],
    ['tab\there\u0001', 'tab here'],
    ['x'.repeat(100), `${'x'.repeat(77)}...`],
  ])('abort message %j → %j', (message, expected) => {
    expect(abortMessagePart(message)).toBe(expected);
  });

  it('fix whitespace and truncate by characters, not UTF-16 units', () => {
    expect(fixSignatureWhitespace('  a\t\tb\n| c  ')).toBe('a b | c');
    const emoji = '😀'.repeat(300);
    const cut = truncateSignature(emoji);
    expect([...cut.text]).toHaveLength(255);
    expect(cut.text.endsWith('😀...')).toBe(true);
    expect(truncateSignature('short')).toEqual({ text: 'short', truncated: false });
  });
});
