import { describe, expect, it } from 'vitest';
import { walkFrames } from '../../src/signature/frame-walk.js';
import { compileSignatureLists } from '../../src/signature/lists.js';
import type { NormalizedFrame } from '../../src/signature/normalize.js';

const lists = compileSignatureLists({
  sentinel: 'abort$\nsigtramp$',
  irrelevant: 'abort$\nraise$\nsigtramp$\n@0x[1-9a-f]',
  prefix: 'memcpy$\nmalloc$\nlibc\\.so\\.6@\n@0x0$',
  'line-number': '',
});

function fn(text: string): NormalizedFrame {
  return { text, kind: 'function', inline: false };
}
function mod(module: string, offset: string): NormalizedFrame {
  return { text: `${module}@${offset}`, kind: 'module-offset', module, inline: false };
}

describe('walking frames with the lists', () => {
  it('ends at the first relevant frame that is not a prefix', () => {
    const walk = walkFrames([fn('crash_here'), fn('caller'), fn('main')], lists);
    expect(walk.parts).toEqual(['crash_here']);
    expect(walk.start).toBe(0);
    expect(walk.debug).toEqual(['frame 0 "crash_here": kept; not a prefix, so the signature ends here', 'frames 1-2: not needed, the signature is complete']);
  });

  it('skips irrelevant frames and combines prefix frames with the next', () => {
    const walk = walkFrames([fn('raise'), fn('memcpy'), fn('malloc'), fn('copy_pixels'), fn('main')], lists);
    expect(walk.parts).toEqual(['memcpy', 'malloc', 'copy_pixels']);
    expect(walk.debug[0]).toBe('frame 0 "raise": skipped, irrelevant (irrelevant.txt:2 /raise$/)');
    expect(walk.debug[1]).toBe('frame 1 "memcpy": prefix (prefix.txt:1 /memcpy$/): kept and combined with the next frame');
    expect(walk.debug.at(-1)).toBe('frame 4: not needed, the signature is complete');
  });

  it('starts at the first sentinel, dropping everything above it', () => {
    const walk = walkFrames([fn('pthread_key_delete'), fn('gsignal'), fn('abort'), fn('do_abort'), fn('main')], lists);
    expect(walk.start).toBe(2);
    expect(walk.parts).toEqual(['do_abort']);
    expect(walk.debug.slice(0, 4)).toEqual([
      'frame 0 "pthread_key_delete": dropped, above the sentinel frame 2',
      'frame 1 "gsignal": dropped, above the sentinel frame 2',
      'frame 2 "abort": sentinel (sentinel.txt:1 /abort$/): the signature starts here',
      'frame 2 "abort": skipped, irrelevant (irrelevant.txt:1 /abort$/)',
    ]);
  });

  it('uses the topmost sentinel when several match', () => {
    const walk = walkFrames([fn('handler'), fn('sigtramp'), fn('f'), fn('abort'), fn('g')], lists);
    expect(walk.start).toBe(1);
    expect(walk.parts).toEqual(['f']);
  });

  it('keeps a prefix frame without symbols as its module and collapses the run after it', () => {
    const walk = walkFrames([mod('libc.so.6', '0x8aeec'), mod('libc.so.6', '0x3bfb1'), mod('libc.so.6', '0x26471'), fn('do_abort')], lists);
    expect(walk.parts).toEqual(['libc.so.6', 'do_abort']);
    expect(walk.debug[1]).toBe('frame 1 "libc.so.6@0x3bfb1": collapsed into frame 0 (same module, no symbols)');
  });

  it('keeps the offset of a module-only frame that ends the signature, and stops collapsing after a named frame', () => {
    expect(walkFrames([mod('app', '0x10'), mod('app', '0x20')], lists).parts).toEqual(['app@0x10']);
    const walk = walkFrames([mod('libc.so.6', '0x1'), fn('memcpy'), mod('libc.so.6', '0x2'), fn('f')], lists);
    expect(walk.parts).toEqual(['libc.so.6', 'memcpy', 'libc.so.6', 'f']);
  });

  it('combines a call through a null pointer with its caller and skips wild jumps', () => {
    expect(walkFrames([fn('@0x0'), fn('caller')], lists).parts).toEqual(['@0x0', 'caller']);
    expect(walkFrames([fn('@0x1234'), fn('caller')], lists).parts).toEqual(['caller']);
  });

  it('answers no parts when every frame is irrelevant, and every prefix when nothing ends the walk', () => {
    expect(walkFrames([fn('raise'), fn('abort')], lists).parts).toEqual([]);
    expect(walkFrames([fn('memcpy'), fn('malloc')], lists).parts).toEqual(['memcpy', 'malloc']);
  });

  it('marks inline frames in the explanation', () => {
    expect(walkFrames([{ text: 'inlined', kind: 'function', inline: true }], lists).debug[0]).toBe('frame 0 (inline) "inlined": kept; not a prefix, so the signature ends here');
  });
});
