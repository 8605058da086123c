import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { WindowQuantiles } from '../../common/window-quantiles.js';
import type { ThrottleResult } from './throttler.js';

/**
 * Reasons counted apart in `rejectedByReason`; later ones share `other`. Rule names come
 * from the configuration and refusals from a fixed list, so a few are expected, but each
 * is a key of every heartbeat.
 */
const MAX_REASONS = 20;

/**
 * The collector's Prometheus metrics, also kept as plain totals (`counts`) for the node's
 * heartbeat, which reports them to the Operations Dashboard.
 */
export class CollectorMetrics {
  readonly received: Counter;
  readonly outcomes: Counter<'outcome' | 'reason'>;
  readonly bytes: Counter;
  /** Observed by the plugin; its `windowMs` keeps the save latencies of the heartbeat's interval. */
  readonly saveSeconds: TimedHistogram;
  readonly errors: Counter<'kind'>;
  readonly pendingQueued: Counter;
  readonly inFlight: Gauge;
  readonly counts = { received: 0, accepted: 0, deferred: 0, rejected: 0, refused: 0, errors: 0, bytes: 0 };
  /** Throttle rejections (by rule) and refusals (by Discarded value) since start, by reason. */
  readonly rejectedByReason = new Map<string, number>();

  constructor(registry?: Registry) {
    const registers = registry ? [registry] : [];
    this.received = new Counter({ name: 'mayday_collector_submissions_received_total', help: 'Submissions whose request reached the collector.', registers });
    this.outcomes = new Counter({
      name: 'mayday_collector_submissions_total',
      help: 'Submissions by outcome: accepted, deferred (stored, not queued), rejected (by a throttle rule, reason = rule) or refused (malformed or over a limit, reason = Discarded value).',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.bytes = new Counter({ name: 'mayday_collector_received_bytes_total', help: 'Request body bytes received, as sent (compressed if they were).', registers });
    this.saveSeconds = new TimedHistogram(
      new Histogram({
        name: 'mayday_collector_save_seconds',
        help: 'Time from the end of the request body to the crash being stored and queued.',
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
        registers,
      }),
    );
    this.errors = new Counter({ name: 'mayday_collector_errors_total', help: 'Storage and queue failures (kind = storage, queue).', labelNames: ['kind'], registers });
    this.pendingQueued = new Counter({ name: 'mayday_collector_pending_queued_total', help: 'Crashes stored during a queue failure and queued later by the sweeper.', registers });
    this.inFlight = new Gauge({ name: 'mayday_collector_requests_in_flight', help: 'Submissions being received.', registers });
  }

  receivedOne(): void {
    this.received.inc();
    this.counts.received++;
  }

  addBytes(n: number): void {
    this.bytes.inc(n);
    this.counts.bytes += n;
  }

  outcome(result: ThrottleResult, rule: string): void {
    const outcome = result === 'accept' ? 'accepted' : result === 'defer' ? 'deferred' : 'rejected';
    this.outcomes.inc({ outcome, reason: result === 'reject' ? rule : '' });
    this.counts[outcome]++;
    if (result === 'reject') this.countReason(rule);
  }

  refused(reason: string): void {
    this.outcomes.inc({ outcome: 'refused', reason });
    this.counts.refused++;
    this.countReason(reason);
  }

  private countReason(reason: string): void {
    const key = this.rejectedByReason.has(reason) || this.rejectedByReason.size < MAX_REASONS ? reason : 'other';
    this.rejectedByReason.set(key, (this.rejectedByReason.get(key) ?? 0) + 1);
  }

  error(kind: 'storage' | 'queue'): void {
    this.errors.inc({ kind });
    this.counts.errors++;
  }
}

/** A histogram of seconds that also keeps, in ms, the values since the heartbeat last read them. */
export class TimedHistogram {
  readonly windowMs = new WindowQuantiles();

  constructor(readonly histogram: Histogram) {}

  observe(seconds: number): void {
    this.histogram.observe(seconds);
    this.windowMs.record(seconds * 1000);
  }
}
