import { failedResult, type ScenarioResult } from './scenario.js';
import { startServer, type ServerProcess, type ServerSettings } from './server-process.js';

/**
 * Starts the real server with `settings`, runs `measure` against it and always stops it; a
 * server that does not start, or a measurement that throws, becomes a failed result that
 * still lists the commands.
 */
export async function withServer(
  name: string,
  settings: ServerSettings,
  commands: string[],
  measure: (server: ServerProcess) => Promise<Omit<ScenarioResult, 'scenario' | 'commands'>>,
): Promise<ScenarioResult> {
  let server: ServerProcess;
  try {
    server = await startServer(settings);
  } catch (err) {
    return failedResult(name, err, commands);
  }
  try {
    return { scenario: name, commands, ...(await measure(server)) };
  } catch (err) {
    return failedResult(name, err, commands);
  } finally {
    await server.stop();
  }
}
