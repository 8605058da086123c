/**
 * The crash index: the searchable summary of every processed crash, for lists, search and
 * aggregations. The full processed crash lives in the processed crash store.
 */
export interface IndexedCrash {
  crashId: string;
  /** ms since epoch. */
  submittedAt: number;
  processedAt: number;
  product: string | null;
  version: string | null;
  releaseChannel: string | null;
  osName: string | null;
  osVersion: string | null;
  cpuArch: string | null;
  reason: string | null;
  address: string | null;
  signature: string | null;
  /** Whether processing hit errors (parse errors, missing dump, ...). */
  hasErrors: boolean;
}

export interface CrashListQuery {
  limit: number;
  offset?: number;
  product?: string;
}

export interface CrashIndex {
  /** Insert or replace: indexing the same crash twice leaves one row. */
  upsert(crash: IndexedCrash): Promise<void>;
  get(crashId: string): Promise<IndexedCrash | undefined>;
  latest(query: CrashListQuery): Promise<IndexedCrash[]>;
  count(): Promise<number>;
  /** The schema version after migrations (shown by `/status` and `/__version__`). */
  schemaVersion(): Promise<number>;
  check(): Promise<void>;
  close(): Promise<void>;
}
