/**
 * What a request or an upgrade presents as its caller, copied out of uWS's request object:
 * a project key or a user token, from `?key=` / `?token=` or `Authorization: Bearer`.
 */
export interface Credentials {
  query: URLSearchParams;
  /** `Authorization: Bearer`, else `?key=`. */
  credential: string | undefined;
  /** The `Authorization` header carried the key, so `?key=` is free for another meaning. */
  credentialInHeader: boolean;
  /** The peer's address: whose budget a call without any credential takes from. */
  remoteAddress: string;
}

/** The peer address uWS reports for a request or an upgrade, as text. */
export const remoteAddressOf = (res: { getRemoteAddressAsText(): ArrayBuffer }): string =>
  Buffer.from(res.getRemoteAddressAsText()).toString();

/** The token of an `Authorization: Bearer <token>` header. */
export function bearer(header: string): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}
