import { Counter, Histogram, type Registry } from 'prom-client';

/** The processor's Prometheus metrics (also read by the Operations Dashboard). */
export class ProcessorMetrics {
  readonly crashes: Counter<'outcome' | 'queue'>;
  readonly processingSeconds: Histogram<'queue'>;
  readonly ruleSeconds: Histogram<'rule'>;
  readonly queueWaitSeconds: Histogram<'queue'>;
  readonly limitsExceeded: Counter<'limit'>;

  constructor(registry: Registry) {
    this.crashes = new Counter({
      name: 'mayday_processor_crashes_total',
      help: 'Crashes handled by the processor, by outcome (processed, failed = saved with errors after a time limit, retried, dead_lettered, missing).',
      labelNames: ['outcome', 'queue'],
      registers: [registry],
    });
    this.processingSeconds = new Histogram({
      name: 'mayday_processor_processing_seconds',
      help: 'Time to process one crash, from taking it off the queue to acknowledging it.',
      labelNames: ['queue'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.ruleSeconds = new Histogram({
      name: 'mayday_processor_rule_seconds',
      help: 'Time spent in each processing rule (the stackwalk rule is the stackwalk time).',
      labelNames: ['rule'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    });
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
