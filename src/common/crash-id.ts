import { randomUUID } from 'node:crypto';

/**
 * Socorro's crash id: a random UUID whose last seven hex characters are replaced by the
 * throttle result digit and the UTC submission date `YYMMDD`, so that the id alone says
 * which day's partition holds the crash (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxTYYMMDD`).
 */
const CRASH_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{5}[0-9][0-9]{6}$/;

/** Throttle results as Antenna encodes them in the crash id. */
export const THROTTLE_ACCEPT = 0;
export const THROTTLE_DEFER = 1;

export function createCrashId(submittedAt: Date = new Date(), throttleResult: number = THROTTLE_ACCEPT): string {
  if (!Number.isInteger(throttleResult) || throttleResult < 0 || throttleResult > 9) {
    throw new RangeError(`throttle result must be a digit, got ${throttleResult}`);
  }
  const uuid = randomUUID();
  return uuid.slice(0, -7) + String(throttleResult) + yymmdd(submittedAt);
}

export function isCrashId(value: string): boolean {
  return CRASH_ID_PATTERN.test(value) && dateOfCrashId(value) !== undefined;
}

/** Accepts `bp-<id>` (what clients are given) as well as a bare id. */
export function parseCrashId(value: string): string | undefined {
  const bare = value.trim().toLowerCase().replace(/^bp-/, '');
  return isCrashId(bare) ? bare : undefined;
}

/** The submission date (UTC midnight) encoded in a crash id. */
export function dateOfCrashId(crashId: string): Date | undefined {
  const digits = crashId.slice(-6);
  const year = 2000 + Number(digits.slice(0, 2));
  const month = Number(digits.slice(2, 4));
  const day = Number(digits.slice(4, 6));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date;
}

/** `YYYYMMDD` partition key of a crash id, as Antenna's storage keys use. */
export function partitionOfCrashId(crashId: string): string {
  return '20' + crashId.slice(-6);
}

function yymmdd(date: Date): string {
  const yy = String(date.getUTCFullYear() % 100).padStart(2, '0');
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  return yy + mm + dd;
}
