/**
 * Where every running node says it is alive and what it is doing, and where status
 * samples are kept over time: read by `/status` and the Operations Dashboard.
 */
export interface NodeReport {
  /** Unique per process: `name@host:pid`. */
  id: string;
  name: string;
  host: string;
  pid: number;
  roles: string[];
  version: string;
  url: string;
  /**
   * ms since epoch, when the node started. Read back on the reader's clock, moved with
   * `lastSeen`: `lastSeen - startedAt` is the node's uptime at its last report, as the node
   * measured it.
   */
  startedAt: number;
  /**
   * ms since epoch. The node sets it to its own clock when it reports; a registry reads it
   * back as the reader's clock time of the node's last report, so that `Date.now() -
   * lastSeen` is the report's age whatever the skew between the two machines' clocks. The
   * embedded adapter (one machine, one clock) returns it as reported; the PostgreSQL one
   * measures the age on the database server's clock.
   */
  lastSeen: number;
  /** Counters and gauges of the node: processed, failed, in_flight, rss_bytes, ... */
  stats: Record<string, number>;
  /** A processor's most recently completed crash. */
  lastCompletedCrash?: string;
  /** `node.host` when set (the deployment's name for the machine), else the machine's host name. */
  deploymentHost?: string;
  /**
   * A hash of the node's effective configuration without what is its own (name, host, data
   * directory, address and port): nodes with the same roles should have the same one, and
   * the Dashboard flags one that differs from its peers'.
   */
  configHash?: string;
  /** The effective configuration with secrets removed, by section and option (the Dashboard draws the running topology from it). */
  config?: Record<string, Record<string, unknown>>;
}

/** One point of the status history: queue depths and processing figures at a time. */
export interface StatusSample {
  /** ms since epoch, rounded down to the sampling interval. */
  at: number;
  waiting: Record<string, number>;
  /** Crashes indexed during the interval before `at`. */
  processed: number;
  /** Mean seconds from submission to processed for those crashes (null if none). */
  meanTimeToProcess: number | null;
  processorsWorking: number;
  /** Each processor's running totals at `at`; the next sample's figures are differences from these. */
  totals: Record<string, { processed: number; firstProcessed: number; seconds: number }>;
}

/**
 * How long status samples are kept: the scheduler's status-history pruning removes older
 * ones (the status page shows far less; the rest is for the Operations Dashboard).
 */
export const STATUS_SAMPLE_RETENTION_MS = 30 * 86_400_000;

export interface NodeRegistry {
  /** Records a node's report, replacing its previous one; the time of the report is the registry's to judge (see `NodeReport.lastSeen`). */
  report(node: NodeReport): Promise<void>;
  /**
   * Nodes whose last report is at most `withinMs` old, by the registry's clock; every
   * registered node when it is omitted (down ones stay until removed). Their `lastSeen` and
   * `startedAt` are on the caller's clock.
   */
  nodes(withinMs?: number): Promise<NodeReport[]>;
  /** Removes a node (on clean shutdown, when a new instance of it starts, or by an operator). */
  forget(id: string): Promise<void>;
  /** Records a sample; a second sample for the same `at` is ignored. */
  recordSample(sample: StatusSample): Promise<void>;
  /** Removes samples taken before `before` (ms since epoch); returns how many. */
  pruneSamples(before: number): Promise<number>;
  samples(sinceMs: number): Promise<StatusSample[]>;
  /** The most recent sample, if any. */
  lastSample(): Promise<StatusSample | undefined>;
  /** Throws when the store cannot be used (for `/__heartbeat__`). */
  check(): Promise<void>;
  /** Releases the connection or file; calling it again does nothing. */
  close(): Promise<void>;
}
