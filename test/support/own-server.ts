import { accessSync, constants } from 'node:fs';

/** A service the tests run themselves, on a port of its own, to stop and start at will (fault tests). */
export interface OwnServer {
  readonly url: string;
  readonly port: number;
  /** Whether it is running (started and not stopped since). */
  running(): boolean;
  /** Starts it again after a stop; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its files; safe at any time, twice. */
  dispose(): Promise<void>;
}

/** Whether `file` exists and may be run. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
