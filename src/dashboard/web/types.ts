/**
 * What the Dashboard reads from the node: the shapes of `/api/ops/overview` (and each event
 * of `/api/ops/stream`) and of `/api/ops/history`. The component and queue views come from
 * the server's own model so that the two cannot drift apart; `ops-model.ts` is pure.
 */

import type { ComponentView, Problem, QueueView } from '../../roles/web/ops-model.js';
import type { DeploymentGraph } from '../../configurator/deployment.js';

export type { ComponentStatus, ComponentView, Problem, QueueView } from '../../roles/web/ops-model.js';

/** `OpsOverview` of src/roles/web/ops-api.ts (not imported from there: that module is the server's, with Fastify in it). */
export interface Overview {
  at: number;
  components: ComponentView[];
  queues: QueueView[];
  problems: Problem[];
  topology: DeploymentGraph;
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
