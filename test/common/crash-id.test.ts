import { describe, expect, it } from 'vitest';
import { createCrashId, dateOfCrashId, isCrashId, parseCrashId, partitionOfCrashId, THROTTLE_DEFER } from '../../src/common/crash-id.js';

describe('crash ids', () => {
  it('end with the throttle digit and the UTC submission date, as Socorro ids do', () => {
    const id = createCrashId(new Date(Date.UTC(2026, 10, 28, 23, 59)), THROTTLE_DEFER);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{5}1261128$/);
    expect(isCrashId(id)).toBe(true);
    expect(partitionOfCrashId(id)).toBe('20261128');
    expect(dateOfCrashId(id)?.toISOString()).toBe('2026-11-28T00:00:00.000Z');
  });

  it('are unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => createCrashId()));
    expect(ids.size).toBe(1000);
  });

  it('accept the bp- prefix clients are given, and refuse what is not an id', () => {
    const id = createCrashId(new Date(Date.UTC(2026, 0, 2)));
    expect(parseCrashId(`bp-${id}`)).toBe(id);
    expect(parseCrashId(id.toUpperCase())).toBe(id);
    expect(parseCrashId('not-a-crash-id')).toBeUndefined();
    expect(parseCrashId(id.slice(0, -6) + '261332')).toBeUndefined(); // month 13
    expect(parseCrashId('../../etc/passwd')).toBeUndefined();
  });

  it('refuses a throttle result that is not a digit', () => {
    expect(() => createCrashId(new Date(), 10)).toThrow(RangeError);
  });
});
