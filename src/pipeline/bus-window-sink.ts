import { publishOn, subscribeTo } from '../cluster/bus-channels.js';
import type { Bus } from '../cluster/bus.js';
import type { WindowSink } from './pipeline-service.js';

/**
 * The pipeline's live sink: window results go out on the Bus (channel `windows`), so the
 * live hub and the window cache of every node get the same results, revisions and finals
 * from the node that runs the project's streams. The in-process bus delivers before
 * `write` returns: a single node keeps its order and latency.
 *
 * @example
 * const pipeline = createPipelineService({ sinks: [createBusWindowSink(bus), stored, rules], … }, {});
 */
export function createBusWindowSink(bus: Bus): WindowSink {
  return { write: (project, results) => publishOn(bus, 'windows', { project, results }) };
}

/** Feeds `sink` with the window results published on the Bus; returns `off`. */
export function windowsFromBus(bus: Bus, sink: WindowSink): () => void {
  return subscribeTo(bus, 'windows', ({ project, results }) => sink.write(project, results));
}
