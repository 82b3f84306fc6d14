import { pack, unpack } from 'msgpackr';
import type { SocketCloseEvent, WebSocketLike } from '../../src/client/types.js';

/**
 * The client's `WebSocket` seam, in memory: every socket the client makes is kept in
 * `FakeSocket.made`, and the test opens, refuses, drops and speaks for it. No server
 * behaviour is imitated beyond what a test writes by hand.
 */
export class FakeSocket implements WebSocketLike {
  static made: FakeSocket[] = [];
  binaryType = 'blob';
  readyState = 0;
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;
  /** Code of the client's `close()`, if it called it. */
  closedWith: number | undefined;
  /** When the socket was made and when it ended (fake timers make these exact). */
  readonly madeAt = Date.now();
  endedAt: number | undefined;
  /** Messages the client sent, decoded. */
  readonly sent: Array<Record<string, unknown>> = [];

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }

  get host(): string {
    return new URL(this.url).hostname;
  }
  get path(): string {
    return new URL(this.url).pathname;
  }
  send(data: Uint8Array): void {
    this.sent.push(unpack(data) as Record<string, unknown>);
  }
  close(code?: number): void {
    this.closedWith = code;
  }
  accept(): void {
    this.readyState = 1;
    (this.onopen as (event: object) => void)({});
  }
  /** A message from the server, as a binary frame. */
  receive(message: object): void {
    const data = new Uint8Array(pack(message)).buffer; // a copy: its own, exact ArrayBuffer
    (this.onmessage as (event: { data: ArrayBuffer }) => void)({ data });
  }
  /** A refused attempt or a dropped socket, as browsers and `ws` report it: error, then close. */
  end(event: SocketCloseEvent = { code: 1006, reason: '' }): void {
    this.readyState = 3;
    this.endedAt = Date.now();
    (this.onerror as (event: object) => void)({});
    (this.onclose as (event: SocketCloseEvent) => void)(event);
  }
}
