import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression, UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { wrapHandler } from "./wrapped-handler.js";

/** How a request body is framed, by its media type (Connect's, gRPC's and gRPC-Web's). */
interface Framing {
  /** Length-prefixed messages (streaming Connect, gRPC, gRPC-Web) rather than one bare body (unary Connect). */
  enveloped: boolean;
  /** Protobuf rather than JSON: only protobuf is parsed here (Connect already answers bad JSON with INVALID_ARGUMENT). */
  binary: boolean;
  /** The header naming the body's compression. */
  encodingHeader: string;
}

const unary = (binary: boolean): Framing => ({ enveloped: false, binary, encodingHeader: "content-encoding" });
const enveloped = (binary: boolean, encodingHeader: string): Framing => ({ enveloped: true, binary, encodingHeader });
const FRAMINGS: Readonly<Record<string, Framing>> = {
  "application/proto": unary(true),
  "application/json": unary(false),
  "application/connect+proto": enveloped(true, "connect-content-encoding"),
  "application/connect+json": enveloped(false, "connect-content-encoding"),
  "application/grpc": enveloped(true, "grpc-encoding"),
  "application/grpc+proto": enveloped(true, "grpc-encoding"),
  "application/grpc+json": enveloped(false, "grpc-encoding"),
  "application/grpc-web": enveloped(true, "grpc-encoding"),
  "application/grpc-web+proto": enveloped(true, "grpc-encoding"),
  "application/grpc-web+json": enveloped(false, "grpc-encoding"),
};

const COMPRESSED_FLAG = 0b1;
const HEADER_BYTES = 5;

/**
 * Answers a request Connect cannot decode with INVALID_ARGUMENT, on every protocol, instead of
 * the INTERNAL connect-es gives: its protobuf parser reports `parse binary: …` as Code.Internal,
 * a compressed envelope without an encoding as Code.Internal, a truncated gzip body as
 * Code.Internal ("decompression failed"), and invalid base64 in a Connect GET as a plain Error
 * ("internal error"). A malformed request is the caller's fault, and a 500 tells an operator
 * the server broke (issue 14).
 *
 * The request is read exactly as Connect will read it (bare or enveloped, decompressed with the
 * encoding it names, parsed as the method's input), one message at a time and handed on as it
 * came, so streams stay interactive; the first undecodable message (or a body with the wrong
 * number of messages) fails the body with INVALID_ARGUMENT, which Connect then writes in the
 * request's own protocol. Whatever is not
 * ours to judge (an unknown encoding, an oversized message, JSON) passes untouched: Connect
 * answers those itself, with the right codes.
 */
export function refuseUndecodableRequests(
  handler: UniversalHandler,
  compressions: readonly Compression[],
  readMaxBytes: number,
): UniversalHandler {
  const input = handler.method.input;
  const takesOneMessage = handler.method.methodKind === "unary" || handler.method.methodKind === "server_streaming";
  const byName = new Map(compressions.map((c) => [c.name, c]));
  const compressionNamed = (name: string | null): Compression | null | undefined => {
    if (name === null || name === "" || name === "identity") return null;
    return byName.get(name); // undefined: unknown, Connect refuses it (UNIMPLEMENTED)
  };
  const checked = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    if (req.method === "GET") {
      const refusal = handler.allowedMethods.includes("GET")
        ? await checkGetQuery(req.url, input, compressionNamed, readMaxBytes)
        : undefined;
      return refusal ? connectErrorResponse(refusal) : handler(req);
    }
    const framing = FRAMINGS[(req.header.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase()];
    const compression = framing && compressionNamed(req.header.get(framing.encodingHeader));
    if (!framing || compression === undefined || !isByteStream(req.body)) return handler(req);
    const check: Check = (bytes, compressed) => {
      if (compressed && !compression) {
        throw new ConnectError(
          `a message is flagged compressed, but the request names no encoding (${framing.encodingHeader})`,
          Code.InvalidArgument,
        );
      }
      return decodeOrRefuse(bytes, compressed ? compression : null, framing.binary ? input : undefined, readMaxBytes);
    };
    const body = framing.enveloped
      ? checkEnvelopes(req.body, check, readMaxBytes, takesOneMessage)
      : checkWhole(req.body, (bytes) => check(bytes, compression !== null), readMaxBytes);
    return handler({ ...req, body });
  };
  return wrapHandler(handler, checked);
}

/** Checks one message; `compressed` says the body or envelope is compressed with the request's encoding. */
type Check = (bytes: Uint8Array, compressed: boolean) => Promise<void>;

function isByteStream(body: UniversalServerRequest["body"]): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

/** A unary Connect body: the whole body is one message. */
async function* checkWhole(
  body: AsyncIterable<Uint8Array>,
  check: (bytes: Uint8Array) => Promise<void>,
  readMaxBytes: number,
): AsyncIterable<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > readMaxBytes) {
      // too large to be ours to parse: Connect refuses it (RESOURCE_EXHAUSTED)
      yield* chunks;
      yield* { [Symbol.asyncIterator]: () => iterator };
      return;
    }
  }
  const whole = concat(chunks, size);
  if (size > 0) await check(whole);
  yield whole;
}

/**
 * Enveloped messages (5-byte header: flags, big-endian length): each is checked, then handed on.
 * A unary or server-streaming call takes exactly one message: none, a second one, or a body that
 * ends inside an envelope is INVALID_ARGUMENT too (connect-es answers the first two UNIMPLEMENTED,
 * which reads as "this server lacks the method").
 */
async function* checkEnvelopes(
  body: AsyncIterable<Uint8Array>,
  check: Check,
  readMaxBytes: number,
  takesOneMessage: boolean,
): AsyncIterable<Uint8Array> {
  let buffer: Uint8Array = new Uint8Array(0);
  let messages = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    buffer = buffer.byteLength === 0 ? next.value : concat([buffer, next.value], buffer.byteLength + next.value.byteLength);
    while (buffer.byteLength >= HEADER_BYTES) {
      const flags = buffer[0]!;
      const length = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).getUint32(1);
      if (length > readMaxBytes) {
        // Connect refuses the size (RESOURCE_EXHAUSTED); nothing more to check
        yield buffer;
        yield* { [Symbol.asyncIterator]: () => iterator };
        return;
      }
      if (buffer.byteLength < HEADER_BYTES + length) break;
      const envelope = buffer.subarray(0, HEADER_BYTES + length);
      buffer = buffer.subarray(HEADER_BYTES + length);
      // only message envelopes are checked; Connect judges any other flag (end of stream, trailers)
      if ((flags & ~COMPRESSED_FLAG) === 0) {
        if (takesOneMessage && ++messages > 1)
          throw new ConnectError("the call takes one request message, and the request carries more", Code.InvalidArgument);
        await check(envelope.subarray(HEADER_BYTES), (flags & COMPRESSED_FLAG) !== 0);
      }
      yield envelope;
    }
  }
  if (buffer.byteLength > 0)
    throw new ConnectError(`the request ends inside a message envelope (${buffer.byteLength} bytes left over)`, Code.InvalidArgument);
  if (takesOneMessage && messages === 0)
    throw new ConnectError("the call takes one request message, and the request carries none", Code.InvalidArgument);
}

/**
 * Decompresses (null: not compressed) and parses (input undefined: JSON, not parsed here) one
 * message, throwing INVALID_ARGUMENT when it cannot be read.
 */
async function decodeOrRefuse(
  bytes: Uint8Array,
  compression: Compression | null,
  input: DescMessage | undefined,
  readMaxBytes: number,
): Promise<void> {
  let data = bytes;
  if (compression) {
    try {
      data = await compression.decompress(bytes, readMaxBytes);
    } catch (err) {
      // over the limit once inflated is RESOURCE_EXHAUSTED, as Connect says; anything else is a corrupt body
      if (err instanceof ConnectError && err.code === Code.ResourceExhausted) throw err;
      throw new ConnectError(`the request's ${compression.name} data is corrupt`, Code.InvalidArgument);
    }
  }
  if (input === undefined) return;
  try {
    fromBinary(input, data);
  } catch (err) {
    throw new ConnectError(
      `the request is not a valid ${input.typeName} in protobuf binary: ${(err as Error).message}`,
      Code.InvalidArgument,
    );
  }
}

/** A Connect GET (`?message=…&encoding=…&base64=1&compression=…`), decoded as Connect will; the refusal, if any. */
async function checkGetQuery(
  url: string,
  input: DescMessage,
  compressionNamed: (name: string | null) => Compression | null | undefined,
  readMaxBytes: number,
): Promise<ConnectError | undefined> {
  const query = new URL(url).searchParams;
  const encoding = query.get("encoding");
  const compression = compressionNamed(query.get("compression"));
  if ((encoding !== "proto" && encoding !== "json") || compression === undefined) return undefined;
  const message = query.get("message") ?? "";
  let bytes: Uint8Array;
  try {
    bytes = query.get("base64") === "1" ? base64Decode(message) : new TextEncoder().encode(message);
  } catch {
    return new ConnectError("the `message` query parameter is not valid base64 (or base64url)", Code.InvalidArgument);
  }
  try {
    await decodeOrRefuse(bytes, compression, encoding === "proto" ? input : undefined, readMaxBytes);
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
}

/** A Connect unary error answer (what Connect itself writes for a GET it refuses). */
function connectErrorResponse(error: ConnectError): UniversalServerResponse {
  const body = errorToJsonBytes(error, {});
  return {
    status: codeToHttpStatus(error.code),
    header: new Headers({ "content-type": "application/json", "content-length": String(body.byteLength) }),
    body: (async function* () {
      yield body;
    })(),
  };
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
