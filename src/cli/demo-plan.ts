/**
 * What `mayday start --demo` sends: a month of a small product's life, so that the pages
 * show trends on a first visit. Pure and deterministic (a seeded generator, dates
 * relative to `now`): the same story every time.
 *
 * The story: Example ships 1.1, 2.0 and 2.1 over the month (1.0 is older), betas of 2.2
 * and nightlies follow. A null dereference is the steady top crasher; the abort is fixed
 * in 2.1 and fades; 2.1 brings a worker thread that often hangs (the watchdog reports a
 * hang: a new top crasher, `hang | ...`); a bad call crashes at start-up (uptime under a
 * minute); on Windows the renderer crashes drawing the first frame (at start-up too), on macOS
 * saving a document crashes in the storage's flush. Volume grows with adoption and dips at
 * weekends. Which crash each one is follows the weights exactly (not by chance), so the
 * top crashers keep this order whatever day the demo starts.
 */

import { seededRandom } from '../common/seeded-random.js';

export const DEMO_DAYS = 30;
const DAY_MS = 86_400_000;

export type Channel = 'release' | 'beta' | 'nightly';

interface Release {
  readonly version: string;
  readonly channel: Channel;
  /** Release day, in days before today. */
  readonly daysAgo: number;
  /** Until when it is built (nightlies: a build a day); days before today. */
  readonly lastDaysAgo?: number;
}

/** Releases, oldest first in each channel: build ids (the release day's date) advance with versions. */
export const RELEASES: readonly Release[] = [
  { version: '1.0', channel: 'release', daysAgo: 45 },
  { version: '1.1', channel: 'release', daysAgo: 26 },
  { version: '2.0', channel: 'release', daysAgo: 17 },
  { version: '2.1', channel: 'release', daysAgo: 6 },
  { version: '2.2b1', channel: 'beta', daysAgo: 5 },
  { version: '2.2b2', channel: 'beta', daysAgo: 2 },
  { version: '2.2a1', channel: 'nightly', daysAgo: 20, lastDaysAgo: 6 },
  { version: '2.3a1', channel: 'nightly', daysAgo: 5, lastDaysAgo: 0 },
];

/** A sample dump, relative to fixtures/. */
export interface DemoDump {
  readonly path: string;
  /** What the sample does (the corpus dumps' names: null, abort, ...), or the platform's sample. */
  readonly kind: string;
}

export interface PlannedCrash {
  readonly dump: DemoDump;
  readonly submittedAt: Date;
  /** Annotations as a Breakpad client sends them, in order. */
  readonly annotations: ReadonlyArray<[string, string]>;
}

const corpus = (kind: string, debug = false): DemoDump => ({ path: `corpus/dumps/example-app-${debug ? 'debug-' : ''}${kind}.dmp`, kind });
/** Synthetic Windows and macOS crashes of the product's desktop builds (fixtures/platforms/README.md). */
const WINDOWS: DemoDump = { path: 'platforms/dumps/windows-demo-app.dmp', kind: 'windows' };
const MACOS: DemoDump = { path: 'platforms/dumps/macos-demo-app.dmp', kind: 'macos' };

function weighted<T>(random: () => number, choices: ReadonlyArray<readonly [T, number]>): T {
  const total = choices.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [value, w] of choices) {
    if ((r -= w) < 0) return value;
  }
  return choices[choices.length - 1][0];
}

/**
 * Picks in proportion to the weights over any run of picks (smooth weighted round-robin),
 * not only on average: with a hundred crashes, chance alone would reorder the top crashers.
 */
function proportional<T>(choices: ReadonlyArray<readonly [T, number]>): () => T {
  const total = choices.reduce((sum, [, w]) => sum + w, 0);
  const credit = choices.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < choices.length; i++) {
      credit[i] += choices[i][1];
      if (credit[i] > credit[best]) best = i;
    }
    credit[best] -= total;
    return choices[best][0];
  };
}

/** `YYYYMMDDhhmmss` of a UTC day at a fixed hour: build ids. */
function buildId(dayStart: number, hour: number): string {
  return new Date(dayStart + hour * 3_600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The day the worker-thread crash came in, and the abort was fixed: builds from then on (days before today). */
const REGRESSION_DAYS_AGO = 6;

/** The kinds of Linux crash of a build, with their weights (the story above). */
function linuxKinds(newCode: boolean): ReadonlyArray<readonly [string, number]> {
  return [
    ['null', 20],
    ['abort', newCode ? 0 : 8],
    ['overflow', 5],
    ['divzero', 3],
    ['badcall', 2],
    ['thread', newCode ? 10 : 0],
  ];
}

interface Pickers {
  readonly platform: () => 'linux' | 'windows' | 'macos';
  readonly oldCode: () => string;
  readonly newCode: () => string;
  readonly hang: () => boolean;
}

const COMMENTS = ['it crashed when I opened a large file', 'happens every time I start it after the update', 'was idle in the background', 'crashed while saving'];

/** The crashes of the demo, oldest first; `now` is a time in ms. */
export function planDemoCrashes(now: number): PlannedCrash[] {
  const random = seededRandom(0x5eed);
  const pickers: Pickers = {
    platform: proportional([['linux', 86], ['windows', 8], ['macos', 6]] as const),
    oldCode: proportional(linuxKinds(false)),
    newCode: proportional(linuxKinds(true)),
    hang: proportional([[true, 3], [false, 2]]),
  };
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const crashes: PlannedCrash[] = [];
  for (let daysAgo = DEMO_DAYS - 1; daysAgo >= 0; daysAgo--) {
    const dayStart = today - daysAgo * DAY_MS;
    const weekend = [0, 6].includes(new Date(dayStart).getUTCDay());
    // Adoption grows over the month; people crash less at weekends.
    const count = Math.max(1, Math.round((1.5 + (3 * (DEMO_DAYS - daysAgo)) / DEMO_DAYS) * (weekend ? 0.6 : 1) + random() * 2));
    // Today's crashes happen before now.
    const span = Math.min(DAY_MS, now - dayStart);
    for (let i = 0; i < count; i++) {
      const submittedAt = dayStart + Math.floor(random() * span);
      crashes.push(planOne(random, pickers, today, daysAgo, submittedAt));
    }
  }
  return crashes.sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime());
}

function planOne(random: () => number, pickers: Pickers, today: number, daysAgo: number, submittedAt: number): PlannedCrash {
  const dayStart = today - daysAgo * DAY_MS;
  const released = (channel: Channel) => RELEASES.filter((r) => r.channel === channel && r.daysAgo >= daysAgo && (r.lastDaysAgo ?? 0) <= daysAgo);
  let channel = weighted<Channel>(random, [['release', 66], ['beta', 18], ['nightly', 16]]);
  if (released(channel).length === 0) channel = 'release';
  const candidates = released(channel).reverse(); // newest first
  // Most people run the newest version; some lag one or more behind.
  const release = candidates[Math.min(candidates.length - 1, weighted(random, [[0, 65], [1, 25], [2, 10]]))];
  const releaseDay = today - release.daysAgo * DAY_MS;
  // Nightlies are built every day (most run today's, some yesterday's, never one from before
  // the version began); releases and betas once, on their release day.
  const nightlyDay = Math.max(releaseDay, dayStart - (random() < 0.7 ? 0 : DAY_MS));
  const build = release.channel === 'nightly' ? buildId(nightlyDay, 3) : buildId(releaseDay, 9);
  const builtOn = release.channel === 'nightly' ? nightlyDay : releaseDay;
  const platform = pickers.platform();
  const debug = platform === 'linux' && random() < 0.15;
  const kind = platform !== 'linux' ? platform : builtOn >= today - REGRESSION_DAYS_AGO * DAY_MS ? pickers.newCode() : pickers.oldCode();
  const dump = platform === 'windows' ? WINDOWS : platform === 'macos' ? MACOS : corpus(kind, debug);
  // Seconds since the epoch, as clients send CrashTime and StartupTime.
  const crashTime = Math.floor(submittedAt / 1000) - 1 - Math.floor(random() * 20);
  // The bad call, and the Windows renderer's first frame, crash at start-up, mostly.
  const startup = ['badcall', 'windows'].includes(kind) ? random() < 0.85 : random() < 0.04;
  const uptime = startup ? 1 + Math.floor(random() * 50) : 60 + Math.floor(random() ** 2 * 6 * 3600);
  // Installed some time between its release and the crash.
  const installTime = Math.floor(builtOn / 1000) + Math.floor(random() * (DAY_MS / 1000));
  const annotations: [string, string][] = [
    ['ProductName', debug ? 'ExampleDebug' : 'Example'],
    ['Version', release.version],
    ['ReleaseChannel', release.channel],
    ['BuildID', build],
    ['CrashTime', String(crashTime)],
    ['StartupTime', String(crashTime - uptime)],
    ['InstallTime', String(Math.min(installTime, crashTime - uptime))],
  ];
  // The worker thread's crash is sometimes reported by the watchdog as a hang.
  if (kind === 'thread' && pickers.hang()) annotations.push(['Hang', '1']);
  if (random() < 0.08) annotations.push(['Comments', COMMENTS[Math.floor(random() * COMMENTS.length)]]);
  return { dump, submittedAt: new Date(submittedAt), annotations };
}
