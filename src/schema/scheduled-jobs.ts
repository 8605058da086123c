/**
 * The scheduler's jobs by name, with what each does: the scheduler role runs them, the web
 * role lists them (`/api/ops/jobs`) from the ledger, whichever node ran them.
 */
export const SCHEDULED_JOBS = {
  'verify-processed': 'Queues every accepted crash of the last processor.verify_days days that is neither processed nor waiting, so that no acknowledged crash stays unprocessed.',
  retention: 'Deletes crashes older than retention.days (raw crashes older than retention.protected_days), per product where [retention.products.*] says so: whole days at once, and on PostgreSQL by dropping the day\'s index partition.',
  'index-maintenance': 'Makes the next days\' index partitions (PostgreSQL), refreshes the planner\'s statistics, and checks the daily counts and rollups of yesterday and today against the crashes, correcting any that differ.',
  'status-history-pruning': 'Removes status samples older than 30 days (what /status and the dashboards chart).',
  alerts: 'Evaluates the [alerts.rules.*] rules every alerts.evaluate_interval (nodes down, queues waiting too long, failure rates, failed jobs), moves each alert between pending, firing and resolved, and POSTs its notices to alerts.webhook_urls.',
  'missing-symbols': 'Summarises the modules whose symbols were missing yesterday, and forgets missing-symbol entries older than the report\'s 365 days (or than retention.days, if shorter).',
} as const;

export type ScheduledJobName = keyof typeof SCHEDULED_JOBS;
