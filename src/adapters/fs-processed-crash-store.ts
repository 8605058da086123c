import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { partitionOfCrashId } from '../common/crash-id.js';
import type { ProcessedCrash, ProcessedCrashStore } from '../ports/processed-crash-store.js';
import { deleteDayFiles, writeFileDurably } from './fs-durable.js';

/** Processed crashes as JSON files, `ROOT/YYYYMMDD/<crash id>.json`, replaced atomically. */
export class FsProcessedCrashStore implements ProcessedCrashStore {
  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<FsProcessedCrashStore> {
    await mkdir(root, { recursive: true });
    return new FsProcessedCrashStore(root);
  }

  async save(crash: ProcessedCrash): Promise<void> {
    await writeFileDurably(this.pathOf(crash.uuid), JSON.stringify(crash));
  }

  async get(crashId: string): Promise<ProcessedCrash | undefined> {
    try {
      return JSON.parse(await readFile(this.pathOf(crashId), 'utf8')) as ProcessedCrash;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async exists(crashId: string): Promise<boolean> {
    try {
      await access(this.pathOf(crashId), constants.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  async delete(crashIds: readonly string[]): Promise<void> {
    await deleteDayFiles(this.root, crashIds.map((id) => this.pathOf(id)));
  }

  async check(): Promise<void> {
    await access(this.root, constants.R_OK | constants.W_OK);
  }

  private pathOf(crashId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(crashId)) throw new Error(`not a crash id: ${crashId}`);
    return join(this.root, partitionOfCrashId(crashId), `${crashId}.json`);
  }
}
