/**
 * A web node's pages for the reprocessing and report tests, on real parts: file raw and
 * processed crash stores, the SQLite queue, crash index, missing-symbols log, bug links,
 * token and account stores, and the real auth layer (tokens, sessions, CSRF).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';

import { FsProcessedCrashStore } from '../../../src/adapters/fs-processed-crash-store.js';
import { FsRawCrashStore } from '../../../src/adapters/fs-raw-crash-store.js';
import { SqliteBugLinks } from '../../../src/adapters/sqlite-bug-links.js';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { SqliteMissingSymbolsLog } from '../../../src/adapters/sqlite-missing-symbols.js';
import { SqliteQueue } from '../../../src/adapters/sqlite-queue.js';
import { SqliteAccountStore } from '../../../src/auth/account-store.js';
import { requestAuthPlugin } from '../../../src/auth/request-auth.js';
import { routeAccessPlugin } from '../../../src/auth/route-access.js';
import { SqliteTokenStore } from '../../../src/auth/token-store.js';
import { createCrashId } from '../../../src/common/crash-id.js';
import type { Permission } from '../../../src/common/permissions.js';
import type { ProcessedCrash } from '../../../src/ports/processed-crash-store.js';
import type { QueueName } from '../../../src/ports/queue.js';
import type { RawCrash } from '../../../src/ports/raw-crash-store.js';
import { webPlugin } from '../../../src/roles/web/plugin.js';
import type { SourceLinkRule } from '../../../src/roles/web/pages/source-links.js';
import { reprocessPagePlugin } from '../../../src/roles/web/reprocess-page-route.js';
import { stackwalkerOutputPlugin } from '../../../src/roles/web/stackwalker-output-route.js';
import { sessionMaker } from '../../support/sessions.js';

export interface WebNode {
  app: FastifyInstance;
  raw: FsRawCrashStore;
  processed: FsProcessedCrashStore;
  queue: SqliteQueue;
  index: SqliteCrashIndex;
  missing: SqliteMissingSymbolsLog;
  bugLinks: SqliteBugLinks;
  /** Stores a crash (raw and processed, and in the index); returns its id. */
  addCrash(fields: Partial<ProcessedCrash> & { submitted?: Date }, annotations?: Record<string, string>): Promise<string>;
  /** Takes every waiting item off the queue. */
  queued(): Promise<{ crashId: string; queue: QueueName }[]>;
  token(permissions: Permission[]): Promise<string>;
  session(permissions: Permission[]): Promise<{ cookie: string; csrf: string }>;
  close(): Promise<void>;
}

export async function startWebNode(options: { sourceLinks?: SourceLinkRule[]; now?: () => number } = {}): Promise<WebNode> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mayday-reprocess-'));
  const database = path.join(dir, 'mayday.sqlite');
  const raw = await FsRawCrashStore.open(path.join(dir, 'raw'));
  const processed = await FsProcessedCrashStore.open(path.join(dir, 'processed'));
  const queue = SqliteQueue.open(path.join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
  const index = SqliteCrashIndex.open(database);
  const missing = SqliteMissingSymbolsLog.open(database);
  const bugLinks = SqliteBugLinks.open(database);
  const tokens = SqliteTokenStore.open(database);
  const accounts = SqliteAccountStore.open(database);
  const app = Fastify();
  await app.register(routeAccessPlugin);
  await app.register(requestAuthPlugin, { tokens, sessions: accounts });
  const adapters = { rawCrashStore: raw, processedCrashStore: processed, crashIndex: index, queue };
  await app.register(webPlugin, { ...adapters, bugLinks, sourceLinks: options.sourceLinks, now: options.now });
  await app.register(reprocessPagePlugin, { ...adapters, missingSymbols: missing, now: options.now });
  await app.register(stackwalkerOutputPlugin, adapters);
  await app.ready();
  return {
    app,
    raw,
    processed,
    queue,
    index,
    missing,
    bugLinks,
    async addCrash(fields, annotations = {}) {
      const submitted = fields.submitted ?? new Date();
      const id = fields.uuid ? String(fields.uuid) : createCrashId(submitted);
      const writer = await raw.begin(id);
      await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP')]));
      const rawCrash: RawCrash = {
        uuid: id,
        submitted_timestamp: submitted.toISOString(),
        annotations: { ProductName: String(fields.product ?? 'Harbor'), Version: String(fields.version ?? '1.0'), ...annotations },
        metadata: { collector_notes: [], dumps: { upload_file_minidump: { size: 4, sha256: 'x' } }, payload: 'multipart', payload_compressed: false, user_agent: 'test', throttle_result: 'accept', throttle_rule: 'accept_everything' },
      };
      await writer.commit(rawCrash);
      const { submitted: _omit, ...rest } = fields;
      const crash: ProcessedCrash = {
        uuid: id,
        submitted_timestamp: submitted.toISOString(),
        date_processed: new Date(submitted.getTime() + 1000).toISOString(),
        product: 'Harbor',
        version: '1.0',
        signature: 'crash_here',
        success: true,
        ...rest,
      };
      await processed.save(crash);
      await index.upsert(crash);
      return id;
    },
    async queued() {
      const items: { crashId: string; queue: QueueName }[] = [];
      for (let item = await queue.take(); item; item = await queue.take()) {
        items.push({ crashId: item.crashId, queue: item.queue });
        await queue.ack(item);
      }
      return items;
    },
    token: async (permissions) => (await tokens.create({ user: 'ci', permissions })).token,
    session: sessionMaker(accounts),
    async close() {
      await app.close();
      for (const store of [queue, index, missing, bugLinks, tokens, accounts]) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
