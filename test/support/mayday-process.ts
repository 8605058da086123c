import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs the real `mayday` command (as built by `npm run build`) for end-to-end tests. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAYDAY_BIN = fileURLToPath(new URL('../../bin/mayday.js', import.meta.url));

export interface MaydayProcess {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** Sends `signal` (SIGTERM by default) and resolves with how the process exited. */
  stop: (signal?: NodeJS.Signals) => Promise<number | string>;
}

/**
 * Starts `mayday ARGS...` and resolves once it prints the URL it listens on. A process
 * that does not start within `timeoutMs` is killed (not left running behind the test).
 */
export function startMayday(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<MaydayProcess> {
  const child = spawn(process.execPath, [MAYDAY_BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mayday did not start within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
    }, timeoutMs);
    const onData = (): void => {
      const match = /is running at (http:\/\/[^\s/]+)\//.exec(err) ?? /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        child.stdout!.off('data', onData);
        const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> => {
          child.kill(signal);
          return exited;
        };
        resolve({ child, url: match[1], stdout: () => out, stderr: () => err, exited, stop });
      }
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`mayday exited with ${code} before starting\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
}

/** Runs `mayday ARGS...` to completion. */
export function runMayday(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAYDAY_BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
