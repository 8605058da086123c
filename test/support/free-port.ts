import { createServer } from 'node:net';

/**
 * A TCP port free on loopback a moment ago, for a server that must be told its port
 * (a broker, a database) rather than pick one. Another process may take it in between;
 * the servers started with it then fail to start, loudly.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
