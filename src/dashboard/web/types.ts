/**
 * What the Dashboard reads from the node: the shapes of `/api/ops/overview` (and each event
 * of `/api/ops/stream`) and of `/api/ops/history`. The component and queue views come from
 * the server's own model so that the two cannot drift apart; `ops-model.ts` is pure.
 */

import type { ComponentView, DependencyView, JobView, Problem, QueueView } from '../../roles/web/ops-model.js';
import type { AlertRecord } from '../../ports/alert-state.js';
import type { DeploymentGraph } from '../../configurator/deployment.js';

export type { ComponentStatus, ComponentView, DependencyView, JobView, Problem, QueueView } from '../../roles/web/ops-model.js';
export type { AlertSeverity, AlertStatus } from '../../ports/alert-state.js';

/** A firing or pending alert as the overview sends it (its delivery bookkeeping left out). */
export type AlertView = Pick<AlertRecord, 'key' | 'rule' | 'subject' | 'severity' | 'status' | 'message' | 'since' | 'firedAt'>;

/** `OpsOverview` of src/roles/web/ops-api.ts (not imported from there: that module is the server's, with Fastify in it). */
export interface Overview {
  at: number;
  components: ComponentView[];
  queues: QueueView[];
  problems: Problem[];
  topology: DeploymentGraph;
  /** Firing alerts, then pending ones. */
  alerts: AlertView[];
  /** The database, queue and storages, as the running nodes' probes found them. */
  dependencies: DependencyView[];
  /** The scheduler's jobs (from the job ledger: those that ran at least once). */
  jobs: JobView[];
  /** Crashes the processors gave up on (counted up to 1000). */
  deadLetters: number;
  /**
   * Crashes per second along the topology's edges, by edge id (`from->to`; ops-model.ts
   * `edgeRates`); an edge no figure measures is absent. Older nodes send none.
   */
  edgeRates?: Record<string, number>;
}

export interface HistoryPoint {
  component: string;
  at: number;
  metrics: Record<string, number>;
}

export interface History {
  resolution: 'minute' | 'ten_minutes';
  points: HistoryPoint[];
}
