import { Counter, Histogram, type LabelValues, type Registry } from 'prom-client';
import { WindowQuantiles } from '../../common/window-quantiles.js';

/** The rule whose time is the stackwalk's (`rules/stack.ts`). */
const STACKWALK_RULE = 'stackwalk';

/**
 * The processor's Prometheus metrics (also read by the Operations Dashboard), and the
 * processing and stackwalk times of the heartbeat's interval (`windows`, in ms).
 */
export class ProcessorMetrics {
  readonly crashes: Counter<'outcome' | 'queue'>;
  readonly processingSeconds: LabelledTimings<'queue'>;
  readonly ruleSeconds: LabelledTimings<'rule'>;
  readonly windows = { processingMs: new WindowQuantiles(), stackwalkMs: new WindowQuantiles() };
  readonly queueWaitSeconds: Histogram<'queue'>;
  readonly limitsExceeded: Counter<'limit'>;

  constructor(registry: Registry) {
    this.crashes = new Counter({
      name: 'mayday_processor_crashes_total',
      help: 'Crashes handled by the processor, by outcome (processed, failed = saved with errors after a time limit, retried, dead_lettered, missing).',
      labelNames: ['outcome', 'queue'],
      registers: [registry],
    });
    const { processingMs, stackwalkMs } = this.windows;
    this.processingSeconds = new LabelledTimings(
      new Histogram({
        name: 'mayday_processor_processing_seconds',
        help: 'Time to process one crash, from taking it off the queue to acknowledging it.',
        labelNames: ['queue'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      }),
      (_labels, seconds) => processingMs.record(seconds * 1000),
    );
    this.ruleSeconds = new LabelledTimings(
      new Histogram({
        name: 'mayday_processor_rule_seconds',
        help: 'Time spent in each processing rule (the stackwalk rule is the stackwalk time).',
        labelNames: ['rule'],
        buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
        registers: [registry],
      }),
      (labels, seconds) => {
        if (labels.rule === STACKWALK_RULE) stackwalkMs.record(seconds * 1000);
      },
    );
    this.queueWaitSeconds = new Histogram({
      name: 'mayday_processor_queue_wait_seconds',
      help: 'Time a crash waited in the queue before a processor took it.',
      labelNames: ['queue'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800, 3600, 86400],
      registers: [registry],
    });
    this.limitsExceeded = new Counter({
      name: 'mayday_processor_limits_exceeded_total',
      help: 'Crashes whose stackwalk was stopped by a hard limit (time: still running after processor.time_limit and its grace; memory: processor.worker_memory_limit), by limit; each is saved as failed.',
      labelNames: ['limit'],
      registers: [registry],
    });
  }
}

/** A labelled histogram of seconds whose observations are also handed to `also` (for the heartbeat's windows). */
export class LabelledTimings<T extends string> {
  constructor(
    readonly histogram: Histogram<T>,
    private readonly also: (labels: LabelValues<T>, seconds: number) => void,
  ) {}

  observe(labels: LabelValues<T>, seconds: number): void {
    this.histogram.observe(labels, seconds);
    this.also(labels, seconds);
  }
}
