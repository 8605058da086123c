/**
 * Which options the form shows up front, which it folds under "Advanced", and which it
 * hides because they do not apply (an S3 bucket when storage is on the filesystem). The
 * schema says what options exist; this file is the one place that says how prominent
 * each is in the web form.
 */

import type { Role } from '../../config/schema.js';

/** Options shown without opening "Advanced". */
export const ESSENTIAL = new Set<string>([
  'node.name',
  'node.host',
  'node.roles',
  'node.data_dir',
  'web.host',
  'web.port',
  'web.public_url',
  'throttle.products',
  'throttle.rules',
  'storage.backend',
  'storage.raw_path',
  'storage.processed_path',
  'storage.s3_bucket',
  'storage.s3_prefix',
  'storage.s3_endpoint',
  'storage.s3_access_key_id',
  'storage.s3_secret_access_key',
  'queue.backend',
  'queue.path',
  'queue.url',
  'queue.prefix',
  'database.backend',
  'database.path',
  'database.url',
  'database.schema',
  'processor.workers',
  'symbols.store',
  'symbols.paths',
  'symbols.upstream_urls',
  'symbols.s3_bucket',
  'symbols.s3_prefix',
  'symbols.s3_endpoint',
  'symbols.s3_access_key_id',
  'symbols.s3_secret_access_key',
  'retention.days',
  'retention.protected_days',
  'dashboard.down_after',
  'alerts.webhook_urls',
  'alerts.format',
  'alerts.rules',
  'log.level',
]);

/** Reads an option's effective value as text (`storage.backend` -> `s3`). */
export type ValueOf = (option: string) => string | undefined;

/** Options that apply only with a given back end; the rest always apply. */
const WHEN: ReadonlyArray<[RegExp, (value: ValueOf) => boolean]> = [
  [/^storage\.s3_/, (v) => v('storage.backend') === 's3'],
  [/^storage\.(raw_path|processed_path|fsync)$/, (v) => v('storage.backend') !== 's3'],
  [/^queue\.(url|prefix|prefetch)$/, (v) => v('queue.backend') === 'rabbitmq'],
  [/^queue\.(path|fsync)$/, (v) => v('queue.backend') !== 'rabbitmq'],
  [/^database\.(url|schema|pool_size|statement_timeout)$/, (v) => v('database.backend') === 'postgresql'],
  [/^database\.path$/, (v) => v('database.backend') !== 'postgresql'],
  [/^symbols\.s3_/, (v) => v('symbols.store') === 's3'],
];

export function applies(option: string, value: ValueOf): boolean {
  return WHEN.every(([pattern, test]) => !pattern.test(option) || test(value));
}

/**
 * Sections a node uses only with some roles; the form of such a node hides the others
 * (a shared file shows every section, since it serves nodes of every role).
 */
const SECTION_ROLES: Partial<Record<string, readonly Role[]>> = {
  collector: ['collector'],
  throttle: ['collector'],
  processor: ['processor'],
  scheduler: ['scheduler'],
  retention: ['scheduler'],
  symbols: ['processor', 'web'],
  // The scheduler evaluates alerts; web nodes show them and the Dashboard.
  alerts: ['scheduler'],
  dashboard: ['web', 'scheduler'],
};

export function sectionApplies(section: string, roles: readonly Role[] | undefined): boolean {
  const needs = SECTION_ROLES[section];
  return roles === undefined || needs === undefined || needs.some((r) => roles.includes(r));
}

/** A line under each section's title. */
export const SECTION_TITLES: Record<string, string> = {
  node: 'Node: its name, host and roles',
  web: 'HTTP server',
  collector: 'Collector: limits on submissions',
  throttle: 'Throttling: which crashes are kept',
  storage: 'Raw and processed crash storage',
  queue: 'Processing queue',
  database: 'Database: crash index and metadata',
  processor: 'Processor',
  symbols: 'Symbols',
  scheduler: 'Scheduler',
  retention: 'Retention',
  dashboard: 'Operations Dashboard: when a node counts as down',
  alerts: 'Alerts: rules and the webhooks notices go to',
  log: 'Logging',
};
