import { connect, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { startNode } from '../../src/node/node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lingeringClosePlugin } from '../../src/node/lingering-close.js';

/**
 * A node that refuses a request before reading its body (a bad token, a declared size over
 * the limit) answers and closes. Closing with the body unread makes the kernel reset the
 * connection, and a client still sending then sees EPIPE or ECONNRESET instead of the
 * answer (issue 10's soak). With a lingering close it reads the status every time.
 */

/**
 * What a client busy sending does: headers and a first part of the body, then more of the
 * body while it has not yet read anything (its reading paused), then it reads. Resolves
 * with the answer's status line, or the error that took it.
 */
function uploadRefused(port: number, path: string, headers = 'Content-Type: application/octet-stream'): Promise<string> {
  return new Promise<string>((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    const resolve = (outcome: string): void => {
      socket.destroy();
      done(outcome);
    };
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let received = '';
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(received.startsWith('HTTP/') ? received.split('\r\n')[0]! : (error.code ?? error.message)));
    socket.on('end', () => resolve(received.split('\r\n')[0]!));
    socket.once('connect', () => {
      socket.pause();
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`);
      socket.write(chunk);
      setTimeout(() => {
        // The node has answered by now; the client, not having looked, sends on.
        for (let i = 0; i < 16; i++) socket.write(chunk);
        setTimeout(() => socket.resume(), 300);
      }, 300);
    });
  });
}

function app(withPlugin: boolean): FastifyInstance {
  const server = Fastify({ logger: false, bodyLimit: 1024 });
  if (withPlugin) void server.register(lingeringClosePlugin, { lingerMs: 2000 });
  // Refuses before reading: the body is never consumed by the route.
  server.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
  server.post('/refuse', { preValidation: async (_request, reply) => reply.code(401).header('connection', 'close').send({ error: 'no token' }) }, async () => 'unreachable');
  return server;
}

describe('lingering close', () => {
  let plain: FastifyInstance;
  let lingering: FastifyInstance;
  beforeAll(async () => {
    plain = app(false);
    lingering = app(true);
    await plain.listen({ host: '127.0.0.1', port: 0 });
    await lingering.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await plain.close();
    await lingering.close();
  });

  it('without it, clients still sending lose the answer to a reset (the failure it fixes)', async () => {
    const port = (plain.server.address() as AddressInfo).port;
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => uploadRefused(port, '/refuse')));
    expect(outcomes.filter((o) => !o.startsWith('HTTP/')).length).toBeGreaterThan(0);
  });

  it('with it, every client still sending reads the refusal', async () => {
    const port = (lingering.server.address() as AddressInfo).port;
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => uploadRefused(port, '/refuse')));
    expect(outcomes).toEqual(Array(5).fill('HTTP/1.1 401 Unauthorized'));
  });
});

describe('lingering close on a node', () => {
  it('lets a Breakpad client still sending read its 413, and a symbol uploader its 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-linger-'));
    const { config, findings } = loadConfig({ env: {}, overrides: { 'node.data_dir': dir, 'web.port': '0', 'web.host': '127.0.0.1', 'node.roles': 'collector, web' } });
    if (!config) throw new Error(JSON.stringify(findings));
    const node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
    try {
      const port = new URL(node.url).port;
      const submits = await Promise.all(Array.from({ length: 3 }, () => uploadRefused(Number(port), '/submit', 'Content-Type: multipart/form-data; boundary=x')));
      expect(submits).toEqual(Array(3).fill('HTTP/1.1 413 Payload Too Large'));
      const uploads = await Promise.all(Array.from({ length: 3 }, () => uploadRefused(Number(port), '/symbols/upload', 'Content-Type: application/zip')));
      expect(uploads).toEqual(Array(3).fill('HTTP/1.1 401 Unauthorized'));
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
