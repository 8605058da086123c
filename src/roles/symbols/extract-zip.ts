/**
 * Unpacks an uploaded zip of `.sym` files (the store layout, as build systems upload to
 * Tecken) into a staging folder, refusing zip bombs before and while extracting.
 *
 * Before an entry is extracted, its declared uncompressed size is checked against what
 * is left of the upload's budget (413); while it is extracted, the bytes actually
 * produced are counted against the same budget, since a crafted zip can lie about sizes
 * (yauzl's `validateEntrySizes` also fails an entry whose output differs from its
 * header). Entry names are checked (`unsafePath`) but never used as paths: each entry is
 * staged as `NNNN.sym`, and only a validated name reaches the store.
 */

import { close, createWriteStream, fstat, open } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

import { BoundedFileReader } from './bounded-file-reader.js';
import { quoteName, unsafePath } from './safe-names.js';
import { byteLimit } from './receive-body.js';
import { UploadRefused, type UploadLimits } from './upload-refused.js';

export interface ExtractedEntry {
  /** The entry's name in the zip (validated to be a safe relative path). */
  readonly name: string;
  /** Where its content was staged. */
  readonly file: string;
  readonly size: number;
}

/** Entries that are not symbol files but that zip tools add by themselves. */
const openFd = promisify(open);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);

function isIgnorable(name: string): boolean {
  return name.endsWith('/') || name.startsWith('__MACOSX/') || /(^|\/)\.DS_Store$/.test(name);
}

async function openZip(file: string): Promise<yauzl.ZipFile> {
  // A raw descriptor, not a FileHandle: the reader closes it, and a FileHandle would
  // close its number again when collected, possibly under another file by then.
  const fd = await openFd(file, 'r');
  let size: number;
  try {
    size = (await fstatFd(fd)).size;
  } catch (error) {
    await closeFd(fd);
    throw error;
  }
  const reader = new BoundedFileReader(fd, size);
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, autoClose: false }, (error, zip) => {
      if (!error) {
        resolve(zip);
        return;
      }
      void closeFd(fd).catch(() => undefined);
      reject(new UploadRefused(400, `not a readable zip file: ${error.message}`));
    });
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) reject(new UploadRefused(400, `zip entry ${quoteName(entry.fileName)}: ${error.message}`));
      else resolve(stream);
    });
  });
}

/** Reads entries one at a time (`lazyEntries`), so a huge central directory is not held in memory. */
function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry): void => {
      cleanup();
      resolve(entry);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error instanceof UploadRefused ? error : new UploadRefused(400, `bad zip file: ${error.message}`));
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

export async function extractZip(zipFile: string, stagingDir: string, limits: UploadLimits): Promise<ExtractedEntry[]> {
  const zip = await openZip(zipFile);
  try {
    if (zip.entryCount > limits.maxFiles) {
      throw new UploadRefused(413, `the zip has ${zip.entryCount} entries; at most ${limits.maxFiles} files are accepted in one upload`);
    }
    const extracted: ExtractedEntry[] = [];
    let total = 0;
    for (let entry = await nextEntry(zip); entry !== undefined; entry = await nextEntry(zip)) {
      const name = entry.fileName;
      if (isIgnorable(name)) continue;
      const problem = unsafePath(name);
      if (problem) throw new UploadRefused(400, `zip entry ${quoteName(name)} is refused: it has ${problem}`);
      if (!name.endsWith('.sym')) throw new UploadRefused(400, `zip entry ${quoteName(name)} is not a .sym file`);
      const remaining = limits.maxUncompressedBytes - total;
      if (entry.uncompressedSize > remaining) {
        throw new UploadRefused(413, `zip entry ${quoteName(name)} expands to ${entry.uncompressedSize} bytes, over the limit of ${limits.maxUncompressedBytes} bytes for one upload`);
      }
      const file = path.join(stagingDir, `${String(extracted.length).padStart(6, '0')}.sym`);
      const limit = byteLimit(remaining, `zip entry ${quoteName(name)} (uncompressed)`);
      try {
        await pipeline(await openEntry(zip, entry), limit, createWriteStream(file, { flags: 'wx' }));
      } catch (error) {
        if (error instanceof UploadRefused) throw error;
        throw new UploadRefused(400, `zip entry ${quoteName(name)}: ${(error as Error).message}`);
      }
      total += limit.bytes();
      extracted.push({ name, file, size: limit.bytes() });
    }
    return extracted;
  } finally {
    zip.close();
  }
}
