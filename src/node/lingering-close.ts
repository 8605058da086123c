import type { Socket } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';

/**
 * A lingering close, as nginx and Apache do it: when the node answers a request before
 * reading its body (a bad token, a declared size over the limit, a busy collector) and
 * closes the connection, closing at once with the body still arriving makes the kernel
 * reset the connection, and a client that is still sending may lose the answer to the
 * reset (EPIPE, ECONNRESET) and retry rather than read "401" or "413". Instead the node
 * sends its answer and its FIN, then reads and discards what the client still sends, until
 * the client closes or `lingerMs` has passed (a time bound, so that a client that never
 * stops cannot hold the socket), and only then closes.
 */
export interface LingeringCloseOptions {
  /** Longest time a refused connection is read after the answer. */
  readonly lingerMs: number;
}

export const DEFAULT_LINGER_MS = 5000;

const plugin: FastifyPluginAsync<LingeringCloseOptions> = async (app, options) => {
  app.addHook('onSend', async (request, reply) => {
    if (request.raw.complete || String(reply.getHeader('connection') ?? '').toLowerCase() !== 'close') return;
    lingerOnClose(request.raw.socket, options.lingerMs);
  });
};
// Not encapsulated: every route's early refusals linger, whichever plugin adds the route.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const lingeringClosePlugin = plugin;

/** Node's server ends a `Connection: close` answer with `socket.destroySoon()`: this one lingers first. */
function lingerOnClose(socket: Socket, lingerMs: number): void {
  if ((socket as Socket & { lingering?: boolean }).lingering) return;
  (socket as Socket & { lingering?: boolean }).lingering = true;
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    // The client's FIN, once it has read the answer and stopped sending.
    this.once('end', () => this.destroy());
    this.on('error', () => this.destroy());
    // Read and drop what still comes (the HTTP parser may have let go of the socket).
    this.on('data', () => undefined);
    this.resume();
    this.end();
  };
}
