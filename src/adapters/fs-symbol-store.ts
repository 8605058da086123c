/**
 * The local symbol store: a directory in Breakpad's symbol-store layout
 * (`DEBUG_FILE/DEBUG_ID/NAME.sym`, see `symbolStorePath`), so an existing Breakpad symbol
 * directory works as it is, and what Mayday stores is readable by Breakpad's tools.
 *
 * Writes go to a temporary name in the destination directory and are renamed into
 * place: a rename within one filesystem is atomic, so a reader sees the old file or the
 * new one, and two uploads of the same file racing end with one of them whole.
 */

import { randomBytes } from 'node:crypto';
import { access, constants, copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import { symbolStorePath, type SymbolKey, type SymbolSource, type SymbolStore } from '../ports/symbol-store.js';

function isMissingFileError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A read-only directory in the store layout, as a symbol source. */
export class FsSymbolSource implements SymbolSource {
  readonly name: string;
  protected readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.name = `fs:${this.root}`;
  }

  /** Absolute path of `key`'s file, or undefined when its names are unsafe. */
  protected fileOf(key: SymbolKey): string | undefined {
    const relative = symbolStorePath(key);
    return relative === undefined ? undefined : path.join(this.root, relative);
  }

  async fetch(key: SymbolKey): Promise<Uint8Array | undefined> {
    const file = this.fileOf(key);
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      if (isMissingFileError(error)) return undefined;
      throw error;
    }
  }
}

export class FsSymbolStore extends FsSymbolSource implements SymbolStore {
  async putFile(key: SymbolKey, localPath: string): Promise<void> {
    const file = this.fileOf(key);
    if (file === undefined) throw new Error(`unsafe symbol file name: ${key.debugFile} ${key.debugId}`);
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true });
    const temporary = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      // Same filesystem: the staged file itself moves (no copy). Otherwise copy it next
      // to its destination first, so the final rename is still atomic.
      try {
        await rename(localPath, temporary);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        await copyFile(localPath, temporary);
      }
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async has(key: SymbolKey): Promise<boolean> {
    const file = this.fileOf(key);
    if (file === undefined) return false;
    try {
      return (await stat(file)).isFile();
    } catch (error) {
      if (isMissingFileError(error)) return false;
      throw error;
    }
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.W_OK);
  }
}
