import { createServer } from 'node:net';

/**
 * A loopback port free right now. A server that must come back on its port after `kill -9`
 * should start on a fixed port, not on 0: uSockets sets SO_REUSEADDR only for a fixed port,
 * and without it the dead server's TIME_WAIT connections block the port for a minute.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
