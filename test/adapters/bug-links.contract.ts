import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BugLinkStore } from '../../src/ports/bug-links.js';

/** A clock the contract moves by hand, so that "newest first" is decided by the test, not by timing. */
export interface TestClock {
  now: () => number;
  set(ms: number): void;
}

export function testClock(start = 1_700_000_000_000): TestClock {
  let ms = start;
  return { now: () => ms, set: (value) => (ms = value) };
}

/** The bug link store's promises, for every back end. */
export function bugLinksContract(name: string, open: (clock: TestClock) => Promise<{ store: BugLinkStore; dispose(): Promise<void> }>, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`bug links contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let store: BugLinkStore;
    let dispose: () => Promise<void>;
    const clock = testClock();
    beforeEach(async () => {
      clock.set(1_700_000_000_000);
      ({ store, dispose } = await open(clock));
    });
    afterEach(async () => {
      await dispose();
    });

    it('adds a link once, with who made it and when', async () => {
      await store.check();
      expect(await store.forSignatures(['OOM | small'])).toEqual(new Map());
      expect(await store.add('OOM | small', '1234', 'alice')).toBe(true);
      clock.set(1_700_000_000_500);
      expect(await store.add('OOM | small', '1234', 'bob')).toBe(false);
      expect(await store.forSignatures(['OOM | small'])).toEqual(
        new Map([['OOM | small', [{ signature: 'OOM | small', bugId: '1234', createdAt: 1_700_000_000_000, createdBy: 'alice' }]]]),
      );
    });

    it('lists each signature’s links newest first, and leaves out signatures without links', async () => {
      await store.add('a', 'PROJ-1', null);
      clock.set(1_700_000_001_000);
      await store.add('a', 'group/project#12', 'alice');
      await store.add('a', 'PROJ-0', 'alice'); // same millisecond: by bug id
      await store.add('b', 'PROJ-1', 'bob');
      const links = await store.forSignatures(['a', 'b', 'c', 'a']);
      expect([...links.keys()].sort()).toEqual(['a', 'b']);
      expect(links.get('a')!.map((l) => l.bugId)).toEqual(['PROJ-0', 'group/project#12', 'PROJ-1']);
      expect(links.get('a')![2]).toEqual({ signature: 'a', bugId: 'PROJ-1', createdAt: 1_700_000_000_000, createdBy: null });
      expect(links.get('b')).toEqual([{ signature: 'b', bugId: 'PROJ-1', createdAt: 1_700_000_001_000, createdBy: 'bob' }]);
      expect(await store.forSignatures([])).toEqual(new Map());
    });

    it('finds every signature of some bugs, by bug id then signature', async () => {
      await store.add('z | frame', '7', null);
      await store.add('A | frame', '7', null);
      await store.add('m', '12', null);
      await store.add('m', '99', null);
      expect((await store.forBugs(['7', '12', 'nope', '7'])).map((l) => [l.bugId, l.signature])).toEqual([
        ['12', 'm'],
        ['7', 'A | frame'],
        ['7', 'z | frame'],
      ]);
      expect(await store.forBugs([])).toEqual([]);
    });

    it('removes a link, saying whether there was one', async () => {
      await store.add('a', '1', null);
      await store.add('a', '2', null);
      await store.add('b', '1', null);
      expect(await store.remove('a', '1')).toBe(true);
      expect(await store.remove('a', '1')).toBe(false);
      expect(await store.remove('nothing', '1')).toBe(false);
      expect((await store.forSignatures(['a', 'b'])).get('a')!.map((l) => l.bugId)).toEqual(['2']);
      expect((await store.forBugs(['1'])).map((l) => l.signature)).toEqual(['b']);
      // A removed link may be added again.
      expect(await store.add('a', '1', null)).toBe(true);
    });

    it('keeps signatures and bug ids exactly: case, spaces and non-ASCII text are part of them', async () => {
      const signature = 'std::vector<int>::at | «weird» frame  with  spaces';
      await store.add(signature, 'abc', null);
      await store.add(signature, 'ABC', null);
      expect((await store.forSignatures([signature])).get(signature)!.map((l) => l.bugId).sort()).toEqual(['ABC', 'abc']);
      expect(await store.forSignatures([signature.toUpperCase()])).toEqual(new Map());
      expect((await store.forBugs(['abc'])).map((l) => l.signature)).toEqual([signature]);
    });

    it('answers a lookup of many signatures at once', async () => {
      const many = Array.from({ length: 1200 }, (_, i) => `signature ${i}`);
      for (const s of many.filter((_, i) => i % 100 === 0)) await store.add(s, '5', null);
      const links = await store.forSignatures(many);
      expect(links.size).toBe(12);
      expect((await store.forBugs(['5'])).length).toBe(12);
    });

    it('closes twice without error', async () => {
      await store.close();
      await store.close();
    });
  });
}
