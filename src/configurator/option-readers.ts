/**
 * Which roles read an option, for the options some roles never read: the validator warns
 * about such an option set in a node file whose roles ignore it (`[retention]` on a web
 * node does nothing; the scheduler runs retention).
 *
 * Taken from where `src/node/node.ts` (and what it calls) reads the configuration. A
 * section entry covers its options; a `section.key` entry overrides it for one option.
 * Sections not listed (node, web, database, storage, queue, annotations, log, most of
 * symbols) are read by every node, and so are options listed with every role.
 */

import { ROLES, type Role } from '../config/schema.js';

const EVERY: readonly Role[] = ROLES;

export const OPTION_READERS: Readonly<Record<string, readonly Role[]>> = {
  collector: ['collector'],
  // The HTTP server's body limit on every node, whatever its roles.
  'collector.max_request_size': EVERY,
  throttle: ['collector'],
  processor: ['processor'],
  // The web role answers the signature API with the processor's lists.
  'processor.signature_lists': ['processor', 'web'],
  // verify-processed is a scheduler job (a processor on SQLite without a scheduler runs it itself).
  'processor.verify_interval': ['processor', 'scheduler'],
  'processor.verify_days': ['processor', 'scheduler'],
  scheduler: ['scheduler'],
  retention: ['scheduler'],
  // The Dashboard's stale and down (web), and the default threshold of node_down alerts (scheduler).
  dashboard: ['web', 'scheduler'],
  alerts: ['scheduler'],
  source_links: ['web'],
  auth: ['web'],
  'web.status_sample_interval': ['web'],
  'web.bug_url_template': ['web'],
  'web.new_bug_url_template': ['web'],
  'symbols.max_upload_size': ['web'],
  'symbols.max_upload_uncompressed': ['web'],
  'symbols.max_upload_files': ['web'],
  'symbols.cache_size': ['processor'],
  'symbols.negative_cache_ttl': ['processor'],
  'symbols.upstream_urls': ['processor'],
  'symbols.upstream_cache_path': ['processor'],
};

/** The roles that read `option` (`section.key`); every role when no entry limits it. */
export function optionReaders(option: string): readonly Role[] {
  return OPTION_READERS[option] ?? OPTION_READERS[option.split('.')[0]] ?? EVERY;
}
