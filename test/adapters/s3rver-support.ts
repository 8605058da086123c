import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real S3-protocol server on loopback, in its own directory, with `bucket` created. */
export interface LocalS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** Where it keeps its buckets: a server started again on it (and on the same port) finds them. */
  readonly directory: string;
  /** What a store needs to talk to it (s3rver accepts these fixed credentials). */
  readonly options: { bucket: string; endpoint: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };
  /** Stops the server (idempotent); the directory stays until `dispose`. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

type S3rverClass = new (options: object) => { run(): Promise<{ address: string; port: number }>; close(): Promise<void>; httpServer?: Server };

/**
 * `port` and `directory` start a server again where a stopped one was (a restarted S3
 * endpoint); a directory given is the caller's, which `dispose` leaves in place.
 */
export async function startS3rver(bucket = 'crashes', options: { port?: number; directory?: string } = {}): Promise<LocalS3> {
  // s3rver ships no types: imported by a computed name and typed here by what we use.
  const moduleName = 's3rver';
  const { default: S3rver } = (await import(moduleName)) as { default: S3rverClass };
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'mayday-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: options.port ?? 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  // A stopped server is gone for every client: closing only stops listening and waits for
  // open connections, which clients that keep theirs alive and busy never end.
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
    })());
  return {
    endpoint,
    bucket,
    directory,
    options: { bucket, endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true },
    stop,
    dispose: async () => {
      await stop();
      if (options.directory === undefined) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver in a child process started with `--openssl-legacy-provider`: s3rver encrypts its
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in its legacy
 * provider, so in-process it fails every truncated listing with `InternalError`. Only the
 * tests that page need this.
 */
export async function startS3rverWithLegacyCrypto(bucket = 'crashes'): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'mayday-s3rver-'));
  const script = `const S3rver = require('s3rver');
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(directory)}, configureBuckets: [{ name: ${JSON.stringify(bucket)} }] })
      .run().then(({ port }) => process.stdout.write(port + '\\n'));`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // Ended already, by its own exit or by a signal (a Ctrl-C reaching the process group).
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    })());
  return {
    endpoint,
    bucket,
    directory,
    options: { bucket, endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true },
    stop,
    dispose: async () => {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A server that accepts connections and never answers: what a hung S3 endpoint looks like. */
export async function startBlackhole(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A proxy in front of `target` that answers the first `failures` requests with S3's
 * `500 InternalError` ("please try again"), as a server having a bad moment does, and
 * forwards the rest. (Not `503 SlowDown`: the SDK backs off throttling from 500 ms, which
 * makes the test slow without testing more.)
 */
export async function startFlakyProxy(target: string, failures: number): Promise<{ endpoint: string; requests(): number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let seen = 0;
  let left = failures;
  const server = createHttpServer((request, response) => {
    seen += 1;
    if (left > 0) {
      left -= 1;
      request.resume();
      response.writeHead(500, { 'content-type': 'application/xml' });
      response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>');
      return;
    }
    // The Host header is forwarded unchanged: it is part of what the client signed.
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    requests: () => seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
