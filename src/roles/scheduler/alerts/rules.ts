import type { AlertSeverity } from '../../../ports/alert-state.js';

/**
 * Alert rules, as the alerts job uses them: the `[alerts.rules.NAME]` sections of the
 * configuration with each kind's defaults applied.
 */
export const ALERT_KINDS = ['node_down', 'queue_age', 'failure_rate', 'job_failed'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertRule {
  readonly name: string;
  readonly kind: AlertKind;
  /** How long the condition must hold before the alert fires (ms). */
  readonly forMs: number;
  /** node_down, queue_age: seconds; failure_rate: percent; job_failed: failed runs in a row. */
  readonly threshold: number;
  /** failure_rate: the span the rate is computed over (ms). */
  readonly windowMs: number;
  readonly nodes?: readonly string[];
  readonly roles?: readonly string[];
  readonly queues?: readonly string[];
  readonly jobs?: readonly string[];
  readonly severity: AlertSeverity;
}

export const DEFAULT_QUEUE_AGE_SECONDS = 600;
export const DEFAULT_FAILURE_RATE_PERCENT = 10;
export const DEFAULT_FAILURE_WINDOW_MS = 5 * 60_000;

/** A named rule as the configuration holds it (`NamedRule` of the option types). */
export interface ConfiguredRule {
  readonly name: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * The rules with their defaults: a node_down rule without a threshold uses `downAfterMs`
 * (`dashboard.down_after`), so the alert and the dashboard's `down` agree.
 */
export function alertRules(configured: readonly ConfiguredRule[], downAfterMs: number): AlertRule[] {
  return configured.map(({ name, fields }) => {
    const kind = fields.kind as AlertKind;
    if (!(ALERT_KINDS as readonly string[]).includes(kind)) throw new Error(`alert rule ${name}: unknown kind "${String(kind)}"`);
    const number = (key: string): number | undefined => (typeof fields[key] === 'number' ? (fields[key] as number) : undefined);
    const strings = (key: string): readonly string[] | undefined => {
      const value = fields[key];
      return Array.isArray(value) && value.length > 0 ? (value as string[]) : undefined;
    };
    const defaultThreshold = { node_down: downAfterMs / 1000, queue_age: DEFAULT_QUEUE_AGE_SECONDS, failure_rate: DEFAULT_FAILURE_RATE_PERCENT, job_failed: 1 }[kind];
    return {
      name,
      kind,
      forMs: number('for') ?? 0,
      threshold: number('threshold') ?? defaultThreshold,
      windowMs: number('window') ?? DEFAULT_FAILURE_WINDOW_MS,
      nodes: strings('node'),
      roles: strings('role'),
      queues: strings('queue'),
      jobs: strings('job'),
      severity: fields.severity === 'critical' ? 'critical' : 'warning',
    };
  });
}
