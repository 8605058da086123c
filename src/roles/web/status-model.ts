import type { NodeReport, StatusSample } from '../../ports/node-registry.js';
import type { QueueStats } from '../../ports/queue.js';

/**
 * Socorro's processing status, computed from the queue and the node registry (pure, so
 * that it is tested on plain values): what waits, how long it waits, how fast it goes,
 * who is working.
 */
export interface StatusDocument {
  generated_at: string;
  mayday_version: string;
  schema_versions: Record<string, number>;
  queues: { queue: string; waiting: number; in_flight: number; oldest_enqueued_at: string | null; oldest_age_seconds: number | null }[];
  waiting_total: number;
  processors_working: number;
  processors: { id: string; host: string; pid: number; started_at: string; last_seen: string; processed: number; failed: number; in_flight: number; rss_bytes: number }[];
  mean_time_in_queue_seconds: number | null;
  mean_time_to_process_seconds: number | null;
  most_recently_completed: { crash_id: string; at: string } | null;
  history: StatusSample[];
}

export function buildStatus(input: {
  now: number;
  version: string;
  schemaVersions: Record<string, number>;
  queues: QueueStats[];
  nodes: NodeReport[];
  history: StatusSample[];
}): StatusDocument {
  const processors = input.nodes.filter((n) => n.roles.includes('processor'));
  const sum = (key: string): number => processors.reduce((total, n) => total + (n.stats[key] ?? 0), 0);
  const latest = processors
    .filter((n) => n.lastCompletedCrash && n.stats.last_completed_at)
    .sort((a, b) => b.stats.last_completed_at - a.stats.last_completed_at)[0];
  return {
    generated_at: new Date(input.now).toISOString(),
    mayday_version: input.version,
    schema_versions: input.schemaVersions,
    queues: input.queues.map((q) => ({
      queue: q.queue,
      waiting: q.waiting,
      in_flight: q.inFlight,
      oldest_enqueued_at: q.oldestEnqueuedAt ? new Date(q.oldestEnqueuedAt).toISOString() : null,
      oldest_age_seconds: q.oldestEnqueuedAt ? Math.max(0, Math.round((input.now - q.oldestEnqueuedAt) / 1000)) : null,
    })),
    waiting_total: input.queues.reduce((t, q) => t + q.waiting, 0),
    processors_working: processors.length,
    processors: processors.map((n) => ({
      id: n.id,
      host: n.host,
      pid: n.pid,
      started_at: new Date(n.startedAt).toISOString(),
      last_seen: new Date(n.lastSeen).toISOString(),
      processed: n.stats.processed ?? 0,
      failed: n.stats.failed ?? 0,
      in_flight: n.stats.in_flight ?? 0,
      rss_bytes: n.stats.rss_bytes ?? 0,
    })),
    mean_time_in_queue_seconds: ratio(sum('queue_wait_seconds_sum'), sum('taken')),
    mean_time_to_process_seconds: ratio(sum('submission_to_processed_seconds_sum'), sum('first_processed')),
    most_recently_completed: latest ? { crash_id: latest.lastCompletedCrash!, at: new Date(latest.stats.last_completed_at).toISOString() } : null,
    history: input.history,
  };
}

/**
 * The next history point: queue depths now, and what the processors did since the
 * previous stored sample, from differences of their running totals (a node that
 * restarted counts from 0; a node first seen contributes from its next sample on). The
 * sample carries the totals it saw, so any web node can take the next one.
 */
export function nextSample(at: number, queues: QueueStats[], nodes: NodeReport[], previous: StatusSample | undefined): StatusSample {
  let processed = 0;
  let firstProcessed = 0;
  let seconds = 0;
  const totals: StatusSample['totals'] = {};
  const processors = nodes.filter((n) => n.roles.includes('processor'));
  for (const node of processors) {
    const now = { processed: node.stats.processed ?? 0, firstProcessed: node.stats.first_processed ?? 0, seconds: node.stats.submission_to_processed_seconds_sum ?? 0 };
    totals[node.id] = now;
    const before = previous?.totals?.[node.id];
    if (before === undefined) continue;
    const restarted = now.processed < before.processed;
    const base = restarted ? { processed: 0, firstProcessed: 0, seconds: 0 } : before;
    processed += now.processed - base.processed;
    firstProcessed += now.firstProcessed - base.firstProcessed;
    seconds += now.seconds - base.seconds;
  }
  return {
    at,
    waiting: Object.fromEntries(queues.map((q) => [q.queue, q.waiting])),
    processed,
    meanTimeToProcess: ratio(seconds, firstProcessed),
    processorsWorking: processors.length,
    totals,
  };
}

function ratio(total: number, count: number): number | null {
  return count > 0 ? Math.round((total / count) * 1000) / 1000 : null;
}
