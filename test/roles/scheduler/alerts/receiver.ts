import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

/**
 * A local webhook receiver for the tests: records every request, and answers each with
 * what `answer` says (a status, after an optional delay).
 */
export class Receiver {
  readonly received: Received[] = [];
  answer: (request: Received, index: number) => { status: number; delayMs?: number; headers?: Record<string, string> } = () => ({ status: 200 });
  private server!: Server;
  url = '';

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    receiver.server = createServer((req, res) => void receiver.handle(req, res));
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text
    }
    const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
    const index = this.received.length;
    this.received.push(request);
    const { status, delayMs, headers } = this.answer(request, index);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end('ok');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
