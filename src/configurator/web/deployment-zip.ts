/**
 * The deployment's zip, as "Download .zip" gives it: no DOM, so that tests build it in Node
 * and unzip it as a user would.
 */

import { strToU8, zipSync, type Zippable } from 'fflate';
import { parseIni } from '../../config/ini.js';
import { findOption } from '../../config/schema.js';
import type { DeploymentFile } from '../deployment.js';

/** Unix permissions to store: a file holding a secret is private (the security layer checks it after unzipping). */
export function fileMode(file: DeploymentFile): number {
  if (file.mode !== undefined) return file.mode & 0o777;
  try {
    return parseIni(file.text).entries.some((e) => findOption(e.section, e.key)?.secret) ? 0o600 : 0o644;
  } catch {
    return 0o600;
  }
}

export function deploymentZip(files: readonly DeploymentFile[]): Uint8Array {
  const entries: Zippable = {};
  for (const file of files) {
    // "Made by Unix" with the mode in the high half of the external attributes: unzip restores it.
    entries[file.name] = [strToU8(file.text), { os: 3, attrs: ((0o100000 | fileMode(file)) << 16) >>> 0, level: 6 }];
  }
  return zipSync(entries);
}
