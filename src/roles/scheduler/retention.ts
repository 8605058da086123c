import type { Logger } from 'pino';
import type { CrashIndex } from '../../ports/crash-index.js';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';

const DAY_MS = 86_400_000;
/** Crashes handled per round trip: one listing page, one batch of deletes. */
const BATCH = 500;

/**
 * How long crashes are kept. Ages are in days, today included: `days = 30` keeps the
 * crashes submitted today and on the 29 days before, so every cut falls on a day boundary
 * and, when no product has its own rule, retention only ever drops whole days.
 *
 * - `days`: the whole crash (processed crash, index row, raw crash). 0 keeps it forever.
 * - `protectedDays`: the raw crash alone (the dumps and every annotation as sent, which is
 *   where protected data lives: URLs, e-mail addresses, comments, memory). 0 means "as long
 *   as the crash"; it can only shorten that, since a crash that goes takes its raw crash.
 */
export interface RetentionAges {
  readonly days: number;
  readonly protectedDays: number;
}

export interface RetentionSettings extends RetentionAges {
  /** Products with their own ages; `''` names crashes without a product. */
  readonly products: readonly (RetentionAges & { readonly product: string })[];
}

/** One rule of the plan: which crashes, and the times before which they go. */
export interface RetentionRule {
  /** This product's crashes, or (absent) every product's but `exceptProducts`. */
  readonly product?: string;
  readonly exceptProducts?: readonly string[];
  /** ms since epoch; absent: kept forever. */
  readonly crashesBefore?: number;
  readonly rawBefore?: number;
}

export interface RetentionPlan {
  readonly rules: readonly RetentionRule[];
  /** Days (UTC day numbers) before this one go whole, every product's crashes at once; absent: none. */
  readonly dropDaysBefore?: number;
  /** Days before this one lose every raw crash (whatever their product); absent: none. */
  readonly dropRawDaysBefore?: number;
}

/** The cut for an age: the start of the oldest day kept. */
function cutOf(days: number, now: number): number | undefined {
  return days > 0 ? (Math.floor(now / DAY_MS) - days + 1) * DAY_MS : undefined;
}

function ruleOf(ages: RetentionAges, now: number, which: Pick<RetentionRule, 'product' | 'exceptProducts'>): RetentionRule {
  const crashesBefore = cutOf(ages.days, now);
  const protectedCut = cutOf(ages.protectedDays, now);
  const rawBefore = protectedCut === undefined ? crashesBefore : crashesBefore === undefined ? protectedCut : Math.max(protectedCut, crashesBefore);
  return { ...which, crashesBefore, rawBefore };
}

/** The earliest of the cuts, or undefined when one rule keeps forever: what every rule lets go of. */
function commonCut(cuts: readonly (number | undefined)[]): number | undefined {
  if (cuts.some((cut) => cut === undefined)) return undefined;
  return Math.min(...(cuts as number[]));
}

/** What retention does at `now` (pure: the job and the tests share it). */
export function retentionPlan(settings: RetentionSettings, now: number): RetentionPlan {
  const products = [...new Set(settings.products.map((p) => p.product))];
  const rules = [
    ruleOf(settings, now, { exceptProducts: products }),
    ...products.map((product) => ruleOf(settings.products.findLast((p) => p.product === product)!, now, { product })),
  ];
  const crashes = commonCut(rules.map((r) => r.crashesBefore));
  const raw = commonCut(rules.map((r) => r.rawBefore));
  return { rules, dropDaysBefore: crashes === undefined ? undefined : crashes / DAY_MS, dropRawDaysBefore: raw === undefined ? undefined : raw / DAY_MS };
}

export interface RetentionStores {
  readonly crashIndex: CrashIndex;
  readonly rawCrashStore: RawCrashStore;
  readonly processedCrashStore: ProcessedCrashStore;
}

export interface RetentionReport {
  daysDropped: number;
  crashesRemoved: number;
  rawCrashesRemoved: number;
}

/**
 * Applies the plan: whole days first (each day's stored crashes deleted, then its index
 * partition dropped), then the crashes of products whose ages are shorter, row by row, then
 * raw crashes past their protected age. `previous`, the plan of the last successful run,
 * bounds that last step to the raw crashes that passed their age since then (with a day of
 * margin), so that a run does not delete again what the one before it deleted; without it,
 * the step starts from the beginning.
 */
export async function applyRetention(stores: RetentionStores, plan: RetentionPlan, options: { signal: AbortSignal; log: Logger; previous?: RetentionPlan }): Promise<RetentionReport> {
  const { crashIndex, rawCrashStore, processedCrashStore } = stores;
  const { signal, log } = options;
  const report: RetentionReport = { daysDropped: 0, crashesRemoved: 0, rawCrashesRemoved: 0 };
  const forget = async (ids: readonly string[]): Promise<void> => {
    await processedCrashStore.delete(ids);
    await rawCrashStore.delete(ids);
  };

  if (plan.dropDaysBefore !== undefined) {
    for (const day of await crashIndex.daysBefore(plan.dropDaysBefore)) {
      signal.throwIfAborted();
      let afterId: string | undefined;
      for (;;) {
        const ids = await crashIndex.crashIds({ from: day * DAY_MS, before: (day + 1) * DAY_MS, afterId, limit: BATCH });
        if (ids.length === 0) break;
        await forget(ids);
        afterId = ids[ids.length - 1];
        signal.throwIfAborted();
      }
      report.crashesRemoved += await crashIndex.dropDay(day);
      report.daysDropped++;
      log.info({ day: new Date(day * DAY_MS).toISOString().slice(0, 10) }, 'retention: day dropped');
    }
  }

  for (const rule of plan.rules) {
    if (rule.crashesBefore === undefined) continue;
    for (;;) {
      signal.throwIfAborted();
      const ids = await crashIndex.crashIds({ before: rule.crashesBefore, product: rule.product, exceptProducts: rule.exceptProducts, limit: BATCH });
      if (ids.length === 0) break;
      await forget(ids);
      report.crashesRemoved += await crashIndex.remove(ids);
    }
  }

  // Raw crashes of whole days, found by the raw store's own listing: a crash that was never
  // indexed (it failed, or waits in the dead letters) still goes.
  if (plan.dropRawDaysBefore !== undefined) {
    const last = dayName(plan.dropRawDaysBefore);
    for (const day of (await rawCrashStore.days()).filter((d) => d < last)) {
      let batch: string[] = [];
      for await (const id of rawCrashStore.listDay(day)) {
        batch.push(id);
        if (batch.length === BATCH) {
          signal.throwIfAborted();
          await rawCrashStore.delete(batch);
          report.rawCrashesRemoved += batch.length;
          batch = [];
        }
      }
      await rawCrashStore.delete(batch);
      report.rawCrashesRemoved += batch.length;
    }
  }

  for (const [i, rule] of plan.rules.entries()) {
    if (rule.rawBefore === undefined || rule.rawBefore === rule.crashesBefore) continue;
    // Raw crashes before the whole-day cut went with their days, above.
    const wholeDays = plan.dropRawDaysBefore === undefined ? undefined : plan.dropRawDaysBefore * DAY_MS;
    if (wholeDays !== undefined && rule.rawBefore <= wholeDays) continue;
    const previousCut = options.previous?.rules[i]?.rawBefore;
    const since = previousCut === undefined ? undefined : Math.min(previousCut, rule.rawBefore) - DAY_MS;
    const from = since === undefined ? wholeDays : wholeDays === undefined ? since : Math.max(since, wholeDays);
    let afterId: string | undefined;
    for (;;) {
      signal.throwIfAborted();
      const ids = await crashIndex.crashIds({ from, before: rule.rawBefore, product: rule.product, exceptProducts: rule.exceptProducts, afterId, limit: BATCH });
      if (ids.length === 0) break;
      await rawCrashStore.delete(ids);
      report.rawCrashesRemoved += ids.length;
      afterId = ids[ids.length - 1];
    }
  }
  return report;
}

function dayName(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');
}
