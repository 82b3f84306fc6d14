import { byCode, count, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import { mergeCounts } from './fleet-result.js';
import { shortFlush, targets, type TargetFigures } from './peer-targets.js';
import type { ScenarioResult } from './scenario.js';

type Row = ScenarioResult['table'][number];

/**
 * One block of rows per target, the layers side by side (decode and ack, then backline's
 * transport with its checks, then backline with storage), then backline ÷ each peer, backline's
 * transport alone ÷ each peer, and backline ÷ its transport alone. The first target is backline.
 */
export function peerTable(measured: TargetFigures[]): Row[] {
  const rows = measured.flatMap(targetRows);
  const [backline, ...others] = measured;
  if (!backline) return rows;
  const transport = others.find((m) => m.target === targets.transport.name);
  const peers = others.filter((m) => m !== transport && m.rssPerIdleSocketBytes !== undefined);
  const variants = others.filter((m) => m.rssPerIdleSocketBytes === undefined);
  if (transport) rows.push(layersRow([...peers, transport, backline]));
  for (const peer of peers) {
    rows.push(...ratioRows(backline, peer, true));
    for (const variant of variants) rows.push(...ratioRows(variant, peer, false));
    if (transport) rows.push(...ratioRows(transport, peer, true));
  }
  if (transport) rows.push(...ratioRows(backline, transport, true));
  return rows;
}

/** Events/s from the lightest server to the heaviest: where the time goes, in one line. */
function layersRow(layers: TargetFigures[]): Row {
  return [
    `**where the time goes**: events/s, ${layers.map((m) => m.target).join(' → ')}`,
    layers.map((m) => count(m.load.eventsPerSecond)).join(' → '),
  ];
}

function targetRows(m: TargetFigures): Row[] {
  const { load } = m;
  const lat = load.latencyMs;
  const rows: Row[] = [
    [`**${m.target}**: events/s acknowledged`, count(load.eventsPerSecond)],
    [
      `${m.target}: ack latency p50 / p99 / p99.9`,
      `${ms(lat.p50Ms)} / ${ms(lat.p99Ms)} / ${ms(lat.p999Ms)}`,
    ],
    [`${m.target}: errors`, byCode(mergeCounts([m.connectErrors, load.errors]))],
  ];
  if (m.rssPerIdleSocketBytes !== undefined) {
    rows.push(
      [
        `${m.target}: time to open ${count(m.sockets)} sockets`,
        `${(m.connectMs / 1000).toFixed(2)} s`,
      ],
      [
        `${m.target}: RSS per idle socket (${count(m.sockets)} sockets)`,
        `${count(m.rssPerIdleSocketBytes)} B`,
      ],
    );
  }
  return rows;
}

/** Above 1 means backline has more of it: better for events/s, worse for latency and memory. */
function ratioRows(backline: TargetFigures, peer: TargetFigures, memory: boolean): Row[] {
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2);
  const label = `${backline.target} ÷ ${peer.target}`;
  const rows: Row[] = [
    [`${label}: events/s`, ratio(backline.load.eventsPerSecond, peer.load.eventsPerSecond)],
    [`${label}: p99 ack latency`, ratio(backline.load.latencyMs.p99Ms, peer.load.latencyMs.p99Ms)],
  ];
  if (memory)
    rows.push([
      `${label}: RSS per idle socket`,
      ratio(backline.rssPerIdleSocketBytes, peer.rssPerIdleSocketBytes),
    ]);
  return rows;
}

/** What differs between the servers, so nobody reads the ratios as like for like. */
export function peerNotes(options: BenchOptions): string[] {
  return [
    'The ws and Socket.IO peers (bench/peers/) store nothing and validate nothing: they ' +
      'acknowledge a frame as soon as it is decoded. backline acknowledges once the events ' +
      'are validated, de-duplicated and inserted into embedded ClickHouse. Its second run sets ' +
      `${JSON.stringify(shortFlush)}, the only setting that shortens that wait (the batching ` +
      'timer); the insert itself remains. The ratios show the cost of durable, checked acks, ' +
      'not of the transport alone.',
    `"${targets.transport.name}" (bench/peers/backline-transport-peer.ts) is backline's own ` +
      'code up to storage: the uWebSockets.js ingest socket with its key check and rate ' +
      'limits, frame decoding, validation and the de-dup window, with every setting at its ' +
      'default; it acknowledges once the events are validated and de-duplicated and stores ' +
      'nothing. So decode-and-ack peers → backline transport only → backline shows what ' +
      "backline's checks cost over a bare socket, and what storage costs over those.",
    'Ratios are backline ÷ peer: above 1 means backline has more of it, which is better ' +
      'for events/s and worse for latency and memory.',
    `Same load workers and frames for all: ${options.connections} sockets each keep ` +
      `${options.inflight} frames of ${options.eventsPerFrame} events in flight, while the ` +
      'other sockets of the memory test stay open and idle. Socket.IO carries each binary ' +
      'frame as two WebSocket messages (a header and an attachment), as its users would.',
  ];
}
