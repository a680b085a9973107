import type http from "node:http";
import http2 from "node:http2";
import type { HttpTimeouts } from "../config/config.js";

/**
 * Node's own HTTP/1.1 limits: headers and whole requests must arrive in time (408, then the
 * socket is closed), checked as often as the shortest of them needs (Node checks every 30 s
 * by default, which would let a 1 s limit run 30 s). Responses are not limited: a Server-Sent
 * Events stream runs as long as it sends.
 */
export function h1TimeoutOptions(timeouts: Readonly<HttpTimeouts>): http.ServerOptions {
  return {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    connectionsCheckingInterval: checkEvery(timeouts),
    noDelay: true,
  };
}

function checkEvery(timeouts: Readonly<HttpTimeouts>): number {
  return Math.max(25, Math.min(1_000, Math.floor(timeouts.headersTimeoutMs / 4)));
}

const { NGHTTP2_CANCEL, NGHTTP2_STREAM_STATE_HALF_CLOSED_REMOTE, NGHTTP2_STREAM_STATE_CLOSED } = http2.constants;

/**
 * The same limits for an h2c session, which Node's HTTP/2 server lacks: its only timeout counts
 * any frame as activity, so a client sending PINGs, or one HEADERS frame a byte at a time, would
 * hold a connection forever. Here:
 * - a session with no open stream is closed (GOAWAY) after the idle timeout — the headers
 *   timeout before its first stream — however many frames it sends meanwhile;
 * - a stream whose request (headers and body) has not fully arrived within the request timeout
 *   is reset (CANCEL).
 * A stream whose request has arrived is never cut: WatchFetchJob streams and other long answers
 * run as long as the handler runs, whether or not they send.
 */
export function guardH2Session(session: http2.ServerHttp2Session, timeouts: Readonly<HttpTimeouts>): void {
  let open = 0;
  let quiet: NodeJS.Timeout | undefined;
  const closeWhenQuiet = (ms: number) => {
    quiet = setTimeout(() => {
      session.close();
      // a peer that ignores GOAWAY and keeps the socket open is cut
      setTimeout(() => session.destroy(), timeouts.headersTimeoutMs).unref();
    }, ms);
    quiet.unref();
  };
  closeWhenQuiet(timeouts.headersTimeoutMs);
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(quiet);
    const requestDeadline = setTimeout(() => {
      const state = stream.destroyed ? NGHTTP2_STREAM_STATE_CLOSED : stream.state.state;
      // the request arrived in time; only the answer is still running
      if (state === NGHTTP2_STREAM_STATE_HALF_CLOSED_REMOTE || state === NGHTTP2_STREAM_STATE_CLOSED) return;
      stream.close(NGHTTP2_CANCEL);
    }, timeouts.requestTimeoutMs);
    requestDeadline.unref();
    stream.once("close", () => {
      clearTimeout(requestDeadline);
      if (--open === 0 && !session.closed && !session.destroyed) closeWhenQuiet(timeouts.idleTimeoutMs);
    });
  });
  session.once("close", () => clearTimeout(quiet));
}
