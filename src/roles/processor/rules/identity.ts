import type { Rule } from '../rule.js';

/** Identifiers and processing dates: what every processed crash carries. */
export const identifiersRule: Rule = {
  name: 'identifiers',
  act({ crashId, raw, processed, startedAt }) {
    processed.uuid = crashId;
    processed.submitted_timestamp = raw.submitted_timestamp;
    processed.started_datetime = startedAt.toISOString();
    processed.date_processed = startedAt.toISOString();
  },
};

/**
 * Times relative to the crash, from the annotations clients send (seconds since the
 * epoch): `CrashTime`, `StartupTime` (process start), `InstallTime` (of this version).
 */
export const crashTimesRule: Rule = {
  name: 'crash times',
  act({ annotations, processed, notes }) {
    const seconds = (name: string): number | undefined => {
      const value = annotations[name];
      if (value === undefined) return undefined;
      if (!/^\d{1,12}$/.test(value.trim())) {
        notes.push(`annotation ${name}: "${value.slice(0, 40)}" is not a time in seconds`);
        return undefined;
      }
      return Number(value.trim());
    };
    const submitted = Math.floor(Date.parse(String(processed.submitted_timestamp)) / 1000);
    const crashTime = seconds('CrashTime') ?? submitted;
    processed.crash_time = new Date(crashTime * 1000).toISOString();
    const startup = seconds('StartupTime');
    if (startup !== undefined && startup <= crashTime) processed.uptime = crashTime - startup;
    const install = seconds('InstallTime');
    if (install !== undefined && install <= crashTime) processed.install_age = crashTime - install;
  },
};
