/** A processed crash: Socorro's processed crash document (see src/roles/processor). */
export type ProcessedCrash = Record<string, unknown> & { uuid: string };

export interface ProcessedCrashStore {
  /** Writes or replaces the processed crash atomically (reprocessing overwrites). */
  save(crash: ProcessedCrash): Promise<void>;
  get(crashId: string): Promise<ProcessedCrash | undefined>;
  /** Whether a processed version exists (cheaper than `get`). */
  exists(crashId: string): Promise<boolean>;
  /** Removes these processed crashes; ids not stored are skipped. For retention. */
  delete(crashIds: readonly string[]): Promise<void>;
  check(): Promise<void>;
  /** Releases connections, for stores that hold any. */
  close?(): void | Promise<void>;
}
