import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isExecutable, type OwnServer } from './own-server.js';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { freePort } from './free-port.js';

/**
 * A RabbitMQ node of the test's own, for fault tests that stop the broker: the machine's
 * broker (port 5672) serves every other test file running at the same time and must never
 * be stopped. It runs from a temporary directory (its database, logs, Erlang cookie) on
 * ports of its own, with no plugins (the management plugin would clash on port 15672) and
 * none of the machine's settings (/etc/rabbitmq names the machine's node and listener).
 *
 * Stopped either as an application (`rabbitmqctl stop_app`: every connection closed, the
 * listener gone, the Erlang node still up; `start_app` brings it back in a few seconds) or
 * as a node (killed, then started again on the same directory, ports and name, as after a
 * crash; slower, a node boots in 7 to 15 s here). The listener is set in the node's
 * configuration file: set with RABBITMQ_NODE_PORT instead, RabbitMQ 3.10 declares it twice
 * on `start_app`, which then fails with the port in use.
 */
export interface OwnRabbitMq extends OwnServer {
  readonly nodeName: string;
  /** `kill`: SIGKILL to the node (a crash); `term`: a clean shutdown. Resolves once its port is closed. */
  stop(how?: 'kill' | 'term'): Promise<void>;
  /** `rabbitmqctl stop_app`: the broker closes every connection and stops listening. */
  stopApp(): Promise<void>;
  /** `rabbitmqctl start_app`; resolves once the broker accepts AMQP connections again. */
  startApp(): Promise<void>;
  /** The node's recent console output (for failure messages). */
  output(): string;
}

/**
 * The server script that runs the node in the foreground. The Debian wrapper in
 * /usr/sbin switches to the `rabbitmq` user when run as root (which could not write our
 * directory) and sends the output to /var/log: the script it calls is used instead.
 */
export function rabbitMqServerBinary(): string | undefined {
  const direct = '/usr/lib/rabbitmq/bin/rabbitmq-server';
  if (isExecutable(direct)) return direct;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'rabbitmq-server');
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** rabbitmqctl beside the server script (not the Debian wrapper, for the same reason). */
function rabbitMqCtlBinary(server: string): string {
  const beside = join(dirname(server), 'rabbitmqctl');
  return isExecutable(beside) ? beside : 'rabbitmqctl';
}

const START_TIMEOUT_MS = 90_000;

const run = promisify(execFile);

export async function startOwnRabbitMq(label = 'fault'): Promise<OwnRabbitMq> {
  const binary = rabbitMqServerBinary();
  if (!binary) throw new Error('rabbitmq-server is not installed (looked in /usr/lib/rabbitmq/bin and on PATH)');
  const dir = mkdtempSync(join(tmpdir(), 'mayday-rabbitmq-'));
  const port = await freePort();
  let distPort = await freePort();
  while (distPort === port) distPort = await freePort();
  const nodeName = `mayday-${label}-${randomBytes(4).toString('hex')}@localhost`;
  mkdirSync(join(dir, 'home'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${port}\n`);
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    // The Erlang cookie is created in HOME: ours, not the machine's.
    HOME: join(dir, 'home'),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> | undefined;
  let out = '';
  let disposed = false;
  /** Process groups of every start: the Erlang VM may outlive the script that leads its group. */
  const groups = new Set<number>();

  const signalGroup = (signal: NodeJS.Signals): void => {
    for (const group of groups) {
      try {
        // The node runs in its own process group (detached): the script, the Erlang VM and its helpers.
        process.kill(-group, signal);
      } catch {
        groups.delete(group); // already gone
      }
    }
  };

  const start = async (): Promise<void> => {
    if (child) throw new Error('the RabbitMQ node is running already');
    out = '';
    const started = spawn(binary, [], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    if (started.pid !== undefined) groups.add(started.pid);
    const keep = (chunk: Buffer): void => {
      out = (out + chunk.toString()).slice(-20_000);
    };
    started.stdout!.on('data', keep);
    started.stderr!.on('data', keep);
    exited = once(started, 'exit').then(() => {
      if (child === started) child = undefined;
    });
    await untilAccepting(started);
  };

  const untilAccepting = async (started: ChildProcess): Promise<void> => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child !== started) throw new Error(`the RabbitMQ node ${nodeName} exited while starting:\n${out}`);
      try {
        const connection = await connect(url, { timeout: 1000 });
        await connection.close();
        return;
      } catch {
        if (Date.now() > deadline) {
          signalGroup('SIGKILL');
          throw new Error(`the RabbitMQ node ${nodeName} did not accept connections within ${START_TIMEOUT_MS} ms:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  const ctl = async (command: string): Promise<void> => {
    try {
      await run(rabbitMqCtlBinary(binary), ['-n', nodeName, command], { env, timeout: 60_000 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`rabbitmqctl ${command} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  };
  const stopApp = async (): Promise<void> => {
    await ctl('stop_app');
    await untilClosed(port);
  };
  const startApp = async (): Promise<void> => {
    if (!child) throw new Error('the RabbitMQ node is not running');
    await ctl('start_app');
    await untilAccepting(child);
  };

  const stop = async (how: 'kill' | 'term' = 'kill'): Promise<void> => {
    if (!child) return;
    const waitExit = exited;
    if (how === 'term') {
      // The script traps SIGTERM and shuts the node down cleanly.
      try {
        child.kill('SIGTERM');
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => signalGroup('SIGKILL'), 30_000);
      await waitExit;
      clearTimeout(timer);
    } else {
      signalGroup('SIGKILL');
      await waitExit;
    }
    // The script may be gone before the VM: the node is stopped once nothing listens on its ports.
    await untilClosed(port);
    await untilClosed(distPort);
  };

  // Should the test process end without its afterAll (an uncaught error), the node goes too.
  const onExit = (): void => signalGroup('SIGKILL');
  process.once('exit', onExit);

  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    process.off('exit', onExit);
    signalGroup('SIGKILL');
    await exited?.catch(() => undefined);
    await untilClosed(port).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (error) {
    await dispose();
    throw error;
  }
  return { url, nodeName, port, running: () => child !== undefined, start, stop, stopApp, startApp, dispose, output: () => out };
}

/** Resolves once nothing accepts connections on `port` (within 20 s). */
async function untilClosed(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!open) return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether `startOwnRabbitMq` can work here, or why not. */
export function ownRabbitMqUnavailable(): string | false {
  return rabbitMqServerBinary() === undefined ? 'rabbitmq-server is not installed (looked in /usr/lib/rabbitmq/bin and on PATH)' : false;
}
