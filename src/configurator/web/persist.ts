/**
 * Keeps the work in localStorage so that a reload (or a closed tab) does not lose it.
 * Nothing leaves the browser: the deployment may hold passwords.
 */

import type { DeploymentFile } from '../deployment.js';

export interface Workspace {
  files: DeploymentFile[];
  /** Hosts added by the user that have no node yet (a host otherwise exists through its nodes). */
  extraHosts: string[];
  /** The file shown in the form. */
  selected?: string;
}

const KEY = 'mayday.configurator.v1';

export const EMPTY: Workspace = { files: [], extraHosts: [] };

export function loadWorkspace(): Workspace {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return EMPTY;
    const parsed = JSON.parse(raw) as Partial<Workspace>;
    const files = Array.isArray(parsed.files)
      ? parsed.files.filter((f): f is DeploymentFile => typeof f?.name === 'string' && typeof f?.text === 'string')
      : [];
    const extraHosts = Array.isArray(parsed.extraHosts) ? parsed.extraHosts.filter((h): h is string => typeof h === 'string') : [];
    return { files, extraHosts, selected: typeof parsed.selected === 'string' ? parsed.selected : undefined };
  } catch {
    // Storage disabled or a value from another version: start afresh rather than fail.
    return EMPTY;
  }
}

export function saveWorkspace(workspace: Workspace): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(workspace));
  } catch {
    // Full or disabled storage: the tool still works, only a reload loses the work.
  }
}
