import type { AlertSeverity } from '../../../ports/alert-state.js';

/**
 * Alert rules, as the alerts job uses them: the `[alerts.rules.NAME]` sections of the
 * configuration with each kind's defaults applied.
 */
export const ALERT_KINDS = ['node_down', 'queue_age', 'failure_rate', 'job_failed', 'dependency_unreachable', 'queue_growing', 'nodes_below'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertRule {
  readonly name: string;
  readonly kind: AlertKind;
  /** How long the condition must hold before the alert fires (ms). */
  readonly forMs: number;
  /**
   * node_down, queue_age: seconds; failure_rate: percent; job_failed: failed runs in a row;
   * dependency_unreachable: running nodes that cannot reach it; queue_growing: minutes;
   * nodes_below: fewest running nodes of the role.
   */
  readonly threshold: number;
  /** failure_rate: the span the rate is computed over (ms). */
  readonly windowMs: number;
  readonly nodes?: readonly string[];
  readonly roles?: readonly string[];
  readonly queues?: readonly string[];
  readonly jobs?: readonly string[];
  /** dependency_unreachable: only these dependencies (probe names, `crash_index`, `queue`, ...). */
  readonly dependencies?: readonly string[];
  readonly severity: AlertSeverity;
}

export const DEFAULT_QUEUE_AGE_SECONDS = 600;
export const DEFAULT_FAILURE_RATE_PERCENT = 10;
export const DEFAULT_FAILURE_WINDOW_MS = 5 * 60_000;
/** queue_growing's default when `dashboard.queue_growing_minutes` is not handed in (its default). */
export const DEFAULT_QUEUE_GROWING_MINUTES = 10;

/** A named rule as the configuration holds it (`NamedRule` of the option types). */
export interface ConfiguredRule {
  readonly name: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The `[dashboard]` values some kinds take their default threshold from, so alert and Dashboard agree. */
export interface RuleDefaults {
  /** `dashboard.queue_growing_minutes`: queue_growing's default threshold. */
  readonly queueGrowingMinutes?: number;
}

/** What is wrong with a rule's fields for its kind (a field the kind cannot do without), or undefined. */
export function ruleProblem(fields: Readonly<Record<string, unknown>>): string | undefined {
  // Without a role, "fewer than N running nodes" would count every node of every role, which
  // is never what a fleet check means: a stopped processor fleet hides behind running web nodes.
  if (fields.kind === 'nodes_below' && !(Array.isArray(fields.role) && fields.role.length > 0)) return 'kind nodes_below needs role (collector, processor, web or scheduler): the role whose running nodes are counted';
  return undefined;
}

/**
 * The rules with their defaults: a node_down rule without a threshold uses `downAfterMs`
 * (`dashboard.down_after`), so the alert and the dashboard's `down` agree; queue_growing
 * likewise uses `dashboard.queue_growing_minutes`.
 */
export function alertRules(configured: readonly ConfiguredRule[], downAfterMs: number, defaults: RuleDefaults = {}): AlertRule[] {
  return configured.map(({ name, fields }) => {
    const kind = fields.kind as AlertKind;
    if (!(ALERT_KINDS as readonly string[]).includes(kind)) throw new Error(`alert rule ${name}: unknown kind "${String(kind)}"`);
    const problem = ruleProblem(fields);
    if (problem) throw new Error(`alert rule ${name}: ${problem}`);
    const number = (key: string): number | undefined => (typeof fields[key] === 'number' ? (fields[key] as number) : undefined);
    const strings = (key: string): readonly string[] | undefined => {
      const value = fields[key];
      return Array.isArray(value) && value.length > 0 ? (value as string[]) : undefined;
    };
    const defaultThreshold: Record<AlertKind, number> = {
      node_down: downAfterMs / 1000,
      queue_age: DEFAULT_QUEUE_AGE_SECONDS,
      failure_rate: DEFAULT_FAILURE_RATE_PERCENT,
      job_failed: 1,
      dependency_unreachable: 1,
      queue_growing: defaults.queueGrowingMinutes ?? DEFAULT_QUEUE_GROWING_MINUTES,
      nodes_below: 1,
    };
    const dependencies = strings('dependency');
    return {
      name,
      kind,
      forMs: number('for') ?? 0,
      threshold: number('threshold') ?? defaultThreshold[kind],
      windowMs: number('window') ?? DEFAULT_FAILURE_WINDOW_MS,
      nodes: strings('node'),
      roles: strings('role'),
      queues: strings('queue'),
      jobs: strings('job'),
      // Only set when given: the rules of the other kinds keep their shape.
      ...(dependencies ? { dependencies } : {}),
      severity: fields.severity === 'critical' ? 'critical' : 'warning',
    };
  });
}
