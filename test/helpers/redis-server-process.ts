/**
 * A test process that starts a redis-server with the helper, prints its pid and waits to be
 * ended by a signal: the helper must take its redis-server down with it.
 */
import { startRedisServer } from './redis-server.js';

const server = await startRedisServer();
process.stdout.write(`${server.pid}\n`);
setInterval(() => undefined, 60_000);
