/**
 * The scheduler's jobs by name, with what each does: the scheduler role runs them, the web
 * role lists them (`/api/ops/jobs`) from the ledger, whichever node ran them.
 */
export const SCHEDULED_JOBS = {
  'verify-processed': 'Queues every accepted crash of the last processor.verify_days days that is neither processed nor waiting, so that no acknowledged crash stays unprocessed.',
} as const;

export type ScheduledJobName = keyof typeof SCHEDULED_JOBS;
