import { describe, expect, it } from 'vitest';
import { DEMO_DAYS, planDemoCrashes, RELEASES, type PlannedCrash } from '../../src/cli/demo-plan.js';

const DAY_MS = 86_400_000;
const NOW = Date.parse('2026-12-01T12:34:56Z');
const annotation = (c: PlannedCrash, name: string) => c.annotations.find(([k]) => k === name)?.[1];
const tally = (crashes: readonly PlannedCrash[], key: (c: PlannedCrash) => string) => {
  const counts = new Map<string, number>();
  for (const c of crashes) counts.set(key(c), (counts.get(key(c)) ?? 0) + 1);
  return counts;
};

describe('the demo plan', () => {
  const plan = planDemoCrashes(NOW);

  it('is the same for the same moment, and about a hundred crashes (the demo stays quick)', () => {
    expect(planDemoCrashes(NOW)).toEqual(plan);
    expect(plan.length).toBeGreaterThan(80);
    expect(plan.length).toBeLessThan(140);
  });

  it('spreads the crashes over every one of the last 30 days, none in the future, oldest first', () => {
    const days = new Set(plan.map((c) => Math.floor(c.submittedAt.getTime() / DAY_MS)));
    expect(days.size).toBe(DEMO_DAYS);
    expect(Math.min(...days)).toBe(Math.floor(NOW / DAY_MS) - (DEMO_DAYS - 1));
    expect(plan.every((c) => c.submittedAt.getTime() <= NOW)).toBe(true);
    expect(plan.map((c) => c.submittedAt.getTime())).toEqual(plan.map((c) => c.submittedAt.getTime()).sort((a, b) => a - b));
  });

  it('covers several versions, every channel and three platforms', () => {
    expect([...tally(plan, (c) => annotation(c, 'ReleaseChannel')!).keys()].sort()).toEqual(['beta', 'nightly', 'release']);
    expect(tally(plan, (c) => annotation(c, 'Version')!).size).toBeGreaterThanOrEqual(6);
    expect([...tally(plan, (c) => c.dump.path.split('/')[0] === 'platforms' ? c.dump.kind : 'linux').keys()].sort()).toEqual(['linux', 'macos', 'windows']);
  });

  it('gives each release one build id, advancing with the version; a nightly a build a day, never before its version began', () => {
    for (const release of RELEASES) {
      const builds = new Set(plan.filter((c) => annotation(c, 'Version') === release.version).map((c) => annotation(c, 'BuildID')!));
      for (const build of builds) expect(build).toMatch(/^\d{14}$/);
      const releaseDay = new Date(Math.floor(NOW / DAY_MS) * DAY_MS - release.daysAgo * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '');
      if (release.channel === 'nightly') for (const build of builds) expect(build.slice(0, 8) >= releaseDay).toBe(true);
      else if (builds.size > 0) expect([...builds]).toEqual([`${releaseDay}090000`]);
    }
    const releases = RELEASES.filter((r) => r.channel === 'release').map((r) => plan.find((c) => annotation(c, 'Version') === r.version && annotation(c, 'ReleaseChannel') === 'release'));
    const ids = releases.map((c) => annotation(c!, 'BuildID')!);
    expect(ids).toEqual([...ids].sort());
  });

  it('has hangs and start-up crashes (uptime under a minute), and client times that agree with the submission', () => {
    expect(plan.filter((c) => annotation(c, 'Hang') === '1').length).toBeGreaterThan(2);
    const uptime = (c: PlannedCrash) => Number(annotation(c, 'CrashTime')) - Number(annotation(c, 'StartupTime'));
    expect(plan.filter((c) => uptime(c) < 60).length).toBeGreaterThan(5);
    for (const c of plan) {
      expect(uptime(c)).toBeGreaterThan(0);
      const crashTime = Number(annotation(c, 'CrashTime')) * 1000;
      expect(c.submittedAt.getTime() - crashTime).toBeGreaterThanOrEqual(0);
      expect(c.submittedAt.getTime() - crashTime).toBeLessThan(60_000);
      expect(Number(annotation(c, 'InstallTime'))).toBeLessThanOrEqual(Number(annotation(c, 'StartupTime')));
    }
  });

  it('tells a story the top crashers show: the abort fades after 2.1, the hang is new with it, the null dereference stays on top', () => {
    const lastWeek = (c: PlannedCrash) => c.submittedAt.getTime() > NOW - 7 * DAY_MS;
    const weekBefore = (c: PlannedCrash) => !lastWeek(c) && c.submittedAt.getTime() > NOW - 14 * DAY_MS;
    const kinds = (when: (c: PlannedCrash) => boolean) => tally(plan.filter(when), (c) => (annotation(c, 'Hang') ? 'hang ' : '') + c.dump.kind);
    const [now, before] = [kinds(lastWeek), kinds(weekBefore)];
    expect(before.get('hang thread')).toBeUndefined();
    expect(now.get('hang thread')).toBeGreaterThan(0);
    expect(now.get('abort') ?? 0).toBeLessThan(before.get('abort')!);
    for (const week of [now, before]) {
      const top = [...week].sort((a, b) => b[1] - a[1])[0][0];
      expect(top).toBe('null');
    }
    // The fixed abort never comes from a build made after the fix.
    for (const c of plan.filter((x) => x.dump.kind === 'abort')) expect(['1.0', '1.1', '2.0', '2.2a1']).toContain(annotation(c, 'Version'));
  });

  it('looks alike whatever day it starts (the weights are kept exactly, not drawn)', () => {
    for (let shift = 0; shift < 7; shift++) {
      const other = planDemoCrashes(NOW + shift * DAY_MS + shift * 3_600_000);
      const recent = other.filter((c) => c.submittedAt.getTime() > NOW + shift * DAY_MS - 7 * DAY_MS && c.dump.path.startsWith('corpus/'));
      const counts = tally(recent, (c) => c.dump.kind);
      expect([...counts].sort((a, b) => b[1] - a[1])[0][0]).toBe('null');
    }
  });
});
