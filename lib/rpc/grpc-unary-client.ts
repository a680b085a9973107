// Unary gRPC calls over a shared HTTP/2 session, for a caller that makes many small calls (the
// gateway proxies every REST and Connect unary call through one). connect-es's client runs each
// unary call through its general streaming pipeline: async-iterable transforms for a single
// message, a linked AbortController plus a deadline AbortController per call (and an abort, with a
// DOMException, when the call ends well), fetch-API Headers for request, response and trailers.
// Measured per call on the 2-core box, sequential calls to the same server: 1,060–1,370 µs of CPU
// with it, 270–440 µs for the same call written straight on node:http2. This does that: one
// envelope written with END_STREAM, the answer collected from the stream's events.
//
// What it shares with connect-es, so that errors are connect-es's own: the HTTP/2 session (its
// Http2SessionManager: reconnects, GOAWAY, idle timeout), ConnectError, and the gRPC protocol's
// response and trailer checks (`validateResponse`, `validateTrailer`). A call that is not a plain
// success (HTTP 200, gRPC content type, one uncompressed message, grpc-status 0 in the trailers)
// goes through those checks, so a failure reads exactly as a connect-es client reports it.
import type { ClientHttp2Stream, IncomingHttpHeaders, IncomingHttpStatusHeader, OutgoingHttpHeaders } from "node:http2";
import { constants as h2 } from "node:http2";
import { create, fromBinary, isMessage, toBinary, type DescMethod, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { getAbortSignalReason } from "@connectrpc/connect/protocol";
import { validateResponse, validateTrailer } from "@connectrpc/connect/protocol-grpc";
import type { Http2SessionManager } from "@connectrpc/connect-node";

export interface UnaryCallOptions {
  /** Request metadata (lower-case names). */
  headers?: Readonly<Record<string, string>>;
  /** Deadline in ms, sent as `grpc-timeout` and enforced here; undefined or ≤ 0: none. */
  timeoutMs?: number;
  /** Cancels the call (RST_STREAM CANCEL upstream). */
  signal?: AbortSignal;
}

export interface GrpcUnaryClient {
  /** Calls `method` with `input`; resolves with its output message or rejects with a ConnectError. */
  call(method: DescMethod, input: Message, options?: UnaryCallOptions): Promise<Message>;
}

const CONTENT_TYPE = "application/grpc+proto";
const USER_AGENT = "reviewflow-grpc-unary";
/** gRPC's content types: `application/grpc` with an optional `+proto` (what a gRPC server answers). */
const GRPC_PROTO_CONTENT = /^application\/grpc(?:\+proto)?(?:;|$)/i;
const COMPRESSED_FLAG = 0b1;

export function createGrpcUnaryClient(sessions: Http2SessionManager): GrpcUnaryClient {
  return {
    call(method, input, options = {}) {
      let frame: Buffer;
      try {
        frame = envelope(toBinary(method.input, isMessage(input, method.input) ? input : create(method.input, input)));
      } catch (e) {
        return Promise.reject(new ConnectError(`serialize binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal));
      }
      const headers: OutgoingHttpHeaders = { ...options.headers, "content-type": CONTENT_TYPE, "user-agent": USER_AGENT, te: "trailers" };
      const timeoutMs = options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : undefined;
      if (timeoutMs !== undefined) headers["grpc-timeout"] = `${timeoutMs}m`;
      return new Promise<Message>((resolve, reject) => {
        const call = new UnaryCall(method, sessions, resolve, reject);
        call.start(`/${method.parent.typeName}/${method.name}`, headers, frame, timeoutMs, options.signal);
      });
    },
  };
}

/** One call's state: settles once, on the first of answer, stream error, deadline or cancellation. */
class UnaryCall {
  private settled = false;
  private stream: ClientHttp2Stream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private signal: AbortSignal | undefined;
  private responseHeaders: (IncomingHttpHeaders & IncomingHttpStatusHeader) | undefined;
  private trailers: IncomingHttpHeaders | undefined;
  private readonly chunks: Buffer[] = [];
  private readonly onAbort = () => this.fail(ConnectError.from(getAbortSignalReason(this.signal!), Code.Canceled));

  constructor(
    private readonly method: DescMethod,
    private readonly sessions: Http2SessionManager,
    private readonly resolve: (message: Message) => void,
    private readonly reject: (err: ConnectError) => void,
  ) {}

  start(path: string, headers: OutgoingHttpHeaders, frame: Buffer, timeoutMs: number | undefined, signal: AbortSignal | undefined): void {
    if (signal) {
      if (signal.aborted) return this.onAbortOf(signal);
      this.signal = signal;
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
    // as connect-es: the deadline is the caller's; the server gets it too, but may not honour it
    if (timeoutMs !== undefined)
      this.timer = setTimeout(() => this.fail(new ConnectError("the operation timed out", Code.DeadlineExceeded)), timeoutMs);
    this.sessions.request("POST", path, headers, {}).then(
      (stream) => this.attach(stream, frame),
      (reason: unknown) => this.fail(connectErrorFromNodeReason(reason)),
    );
  }

  private onAbortOf(signal: AbortSignal): void {
    this.signal = signal;
    this.onAbort();
  }

  private attach(stream: ClientHttp2Stream, frame: Buffer): void {
    this.stream = stream;
    if (this.settled) {
      // the deadline or the caller's cancellation came first
      stream.close(h2.NGHTTP2_CANCEL);
      return;
    }
    stream.on("response", (headers) => (this.responseHeaders = headers));
    stream.on("trailers", (trailers) => (this.trailers = trailers));
    stream.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.sessions.notifyResponseByteRead(stream);
    });
    stream.on("end", () => this.finish());
    stream.on("error", (err: unknown) => {
      // the server answered and closed before our (single) write was acknowledged: its answer counts
      if (stream.writableEnded && errorCodes(err).includes("ERR_STREAM_WRITE_AFTER_END")) return;
      this.fail(connectErrorFromNodeReason(err));
    });
    stream.on("close", () => {
      if (this.settled) return;
      const reset = connectErrorFromH2ResetCode(stream.rstCode);
      if (reset) this.fail(reset);
      else this.finish();
    });
    // headers, the one message and END_STREAM leave in one go
    stream.end(frame);
  }

  private finish(): void {
    if (this.settled) return;
    let message: Message;
    try {
      message = this.readAnswer();
    } catch (err) {
      this.fail(err instanceof ConnectError ? err : ConnectError.from(err, Code.Internal));
      return;
    }
    this.settle();
    this.resolve(message);
  }

  private fail(err: ConnectError): void {
    if (this.settled) return;
    this.settle();
    const stream = this.stream;
    // RST_STREAM with CANCEL for a cancellation (gRPC's mapping), INTERNAL_ERROR otherwise, as connect-es does
    if (stream && !stream.closed) stream.close(err.code === Code.Canceled ? h2.NGHTTP2_CANCEL : h2.NGHTTP2_INTERNAL_ERROR);
    this.reject(err);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
  }

  /** The output message, or throws the ConnectError a connect-es gRPC client would. */
  private readAnswer(): Message {
    const headers: IncomingHttpHeaders & IncomingHttpStatusHeader = this.responseHeaders ?? {};
    const trailers = this.trailers;
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const plainSuccess =
      headers[":status"] === 200 &&
      GRPC_PROTO_CONTENT.test(String(headers["content-type"] ?? "")) &&
      headers["grpc-status"] === undefined &&
      trailers?.["grpc-status"] === "0" &&
      trailers["grpc-status-details-bin"] === undefined &&
      body.length >= 5 &&
      body[0] === 0 &&
      body.readUInt32BE(1) === body.length - 5;
    if (plainSuccess) return this.parse(body.subarray(5));
    return this.readAnswerStrictly(headers, trailers, body);
  }

  /** connect-es's gRPC unary client, step for step (protocol-grpc/transport.js), on the collected answer. */
  private readAnswerStrictly(headers: IncomingHttpHeaders, trailers: IncomingHttpHeaders | undefined, body: Buffer): Message {
    const header = webHeaders(headers);
    const trailer = webHeaders(trailers ?? {});
    const { headerError } = validateResponse(Number(headers[":status"] ?? 0), header);
    // no grpc-accept-encoding is sent (between services on one network compression costs both
    // sides CPU for nothing), so a compressed answer is refused as connect-es refuses an encoding
    // it did not offer
    const encoding = header.get("grpc-encoding");
    if (encoding !== null && encoding.toLowerCase() !== "identity") {
      throw new ConnectError(`unsupported response encoding "${encoding}"`, Code.Internal, header);
    }
    let message: Message | undefined;
    for (let at = 0; at < body.length;) {
      if (body.length - at < 5 || body.readUInt32BE(at + 1) > body.length - at - 5) {
        throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
      }
      const flags = body[at]!;
      const length = body.readUInt32BE(at + 1);
      const data = body.subarray(at + 5, at + 5 + length);
      at += 5 + length;
      if ((flags & COMPRESSED_FLAG) === COMPRESSED_FLAG) {
        throw new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
      }
      if (message !== undefined)
        throw new ConnectError("protocol error: received extra output message for unary method", Code.Unimplemented);
      message = this.parse(data);
    }
    validateTrailer(trailer, header);
    if (message === undefined) {
      // a trailers-only answer: the error is in the headers
      if (headerError) throw headerError;
      throw new ConnectError(
        "protocol error: missing output message for unary method",
        trailer.has("grpc-status") ? Code.Unimplemented : Code.Unknown,
      );
    }
    if (headerError) throw new ConnectError("protocol error: received output message for unary method with error status", Code.Unknown);
    return message;
  }

  private parse(data: Uint8Array): Message {
    try {
      return fromBinary(this.method.output, data);
    } catch (e) {
      throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
    }
  }
}

function envelope(data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + data.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, 5);
  return frame;
}

/** Node's header object as a fetch-API Headers (pseudo-headers left out), as connect-node converts it. */
function webHeaders(source: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(source)) {
    if (name.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else out.append(name, String(value));
  }
  return out;
}

function errorCodes(reason: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  for (let e = reason; e instanceof Error && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

/**
 * A Node error as connect-node reports it (its node-error.ts, not exported): a write after the
 * server ended, or a destroyed or reset stream, is ABORTED; an unreachable host UNAVAILABLE;
 * anything else INTERNAL.
 */
function connectErrorFromNodeReason(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  const codes = errorCodes(reason);
  let code = Code.Internal;
  if (codes.includes("ERR_STREAM_WRITE_AFTER_END")) code = Code.Aborted;
  else if (codes.some((c) => c === "ERR_STREAM_DESTROYED" || c === "ERR_HTTP2_INVALID_STREAM" || c === "ECONNRESET")) code = Code.Aborted;
  else if (codes.some((c) => c === "ETIMEDOUT" || c === "ENOTFOUND" || c === "EAI_AGAIN" || c === "ECONNREFUSED")) code = Code.Unavailable;
  const err = ConnectError.from(reason, code);
  if (err !== reason) err.cause = reason;
  return err;
}

const RESET_CODES: Record<number, [string, Code]> = {
  [h2.NGHTTP2_PROTOCOL_ERROR]: ["PROTOCOL_ERROR", Code.Internal],
  [h2.NGHTTP2_INTERNAL_ERROR]: ["INTERNAL_ERROR", Code.Internal],
  [h2.NGHTTP2_FLOW_CONTROL_ERROR]: ["FLOW_CONTROL_ERROR", Code.Internal],
  [h2.NGHTTP2_SETTINGS_TIMEOUT]: ["SETTINGS_TIMEOUT", Code.Internal],
  [h2.NGHTTP2_FRAME_SIZE_ERROR]: ["FRAME_SIZE_ERROR", Code.Internal],
  [h2.NGHTTP2_COMPRESSION_ERROR]: ["COMPRESSION_ERROR", Code.Internal],
  [h2.NGHTTP2_CONNECT_ERROR]: ["CONNECT_ERROR", Code.Internal],
  [h2.NGHTTP2_REFUSED_STREAM]: ["REFUSED_STREAM", Code.Unavailable],
  [h2.NGHTTP2_CANCEL]: ["CANCEL", Code.Canceled],
  [h2.NGHTTP2_ENHANCE_YOUR_CALM]: ["ENHANCE_YOUR_CALM", Code.ResourceExhausted],
  [h2.NGHTTP2_INADEQUATE_SECURITY]: ["INADEQUATE_SECURITY", Code.PermissionDenied],
  [h2.NGHTTP2_HTTP_1_1_REQUIRED]: ["HTTP_1_1_REQUIRED", Code.PermissionDenied],
};

/** An HTTP/2 reset as connect-node maps it (gRPC's PROTOCOL-HTTP2 errors); NO_ERROR and STREAM_CLOSED are none. */
function connectErrorFromH2ResetCode(rstCode: number | undefined): ConnectError | undefined {
  const known = rstCode === undefined ? undefined : RESET_CODES[rstCode];
  return known && new ConnectError(`http/2 stream closed with error code ${known[0]} (0x${rstCode!.toString(16)})`, known[1]);
}
