// Clients that misbehave on the wire, for the tests of connection limits and undecodable
// requests: a raw TCP socket, a trickle of bytes, hand-made gRPC envelopes and h2 frames.
import http2 from "node:http2";
import net from "node:net";

/** A raw TCP client: what it received, and when (ms after it opened) the server closed it. */
export function rawClient(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  const opened = Date.now();
  let received = "";
  socket.on("data", (chunk) => (received += chunk.toString("latin1")));
  socket.on("error", () => undefined);
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - opened)));
  return { socket, closed, received: () => received };
}

/** Calls `send` every `everyMs` until the socket closes: a client trickling its request. */
export function trickle(socket: net.Socket, everyMs: number, send: () => void): void {
  const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : send()), everyMs);
  socket.once("close", () => clearInterval(timer));
}

/**
 * An h2c connection preface with empty SETTINGS, and a HEADERS frame (END_STREAM | END_HEADERS,
 * stream 1: GET / on authority "a", HPACK-encoded by hand) for a client to trickle a byte at a time.
 */
export function h2SlowHeaders(): { preface: Buffer; headers: Buffer } {
  const settings = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
  const block = Buffer.from([0x82, 0x86, 0x84, 0x41, 0x01, 0x61]);
  return {
    preface: Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), settings]),
    headers: Buffer.concat([Buffer.from([0, 0, block.length, 0x1, 0x5, 0, 0, 0, 1]), block]),
  };
}

/** A gRPC / gRPC-Web / Connect-streaming envelope: flags, big-endian length, data. */
export function envelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + data.byteLength);
  out[0] = flags;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

/** Field 1, length-delimited, promising 127 bytes that never come: no protobuf parser accepts it. */
export const UNDECODABLE_PROTOBUF = Buffer.from([0x0a, 0x7f, 0x01]);

/** One gRPC call over h2c with a hand-made body: its HTTP status, grpc-status and message. */
export async function rawGrpcCall(
  baseUrl: string,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: string; message: string }> {
  const session = http2.connect(baseUrl);
  session.on("error", () => undefined);
  try {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    stream.on("error", () => undefined);
    const meta: Record<string, unknown> = {};
    stream.on("response", (h) => Object.assign(meta, h));
    stream.on("trailers", (t) => Object.assign(meta, t));
    stream.end(body);
    stream.resume();
    await new Promise((resolve) => stream.once("close", resolve));
    return { status: String(meta["grpc-status"]), message: decodeURIComponent(String(meta["grpc-message"] ?? "")) };
  } finally {
    session.close();
  }
}

/** The grpc-status and message in a gRPC-Web answer's trailer frame (the last envelope). */
export function grpcWebTrailer(body: Buffer): { status: string; message: string } {
  let offset = 0;
  let trailer = "";
  while (offset + 5 <= body.length) {
    const length = body.readUInt32BE(offset + 1);
    if (body[offset]! & 0x80) trailer = body.subarray(offset + 5, offset + 5 + length).toString("latin1");
    offset += 5 + length;
  }
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(trailer)?.[1]?.trim() ?? "";
  return { status: field("grpc-status"), message: decodeURIComponent(field("grpc-message")) };
}
