import assert from "node:assert/strict";
import http2 from "node:http2";
import zlib from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { HealthCheckRequestSchema } from "../../gen/grpc/health/v1/health_pb.js";
import { GetTokenInfoRequestSchema, TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { silentLogger } from "../log/index.js";
import { createRpcServer, type RpcServer } from "./index.js";

/** Field 1, length-delimited, promising 127 bytes that never come: no protobuf parser accepts it. */
const UNDECODABLE = Buffer.from([0x0a, 0x7f, 0x01]);
const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
const REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
const GET_TOKEN_INFO = "/reviewflow.token.v1.TokenService/GetTokenInfo";

function envelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + data.byteLength);
  out[0] = flags;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

/** One gRPC call over h2c with a hand-made body: its grpc-status and message. */
async function grpcCall(baseUrl: string, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: string; message: string }> {
  const session = http2.connect(baseUrl);
  try {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
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

/** The grpc-status and message in a gRPC-Web answer's trailer frame. */
function grpcWebTrailer(body: Buffer): { status: string; message: string } {
  const text = body.subarray(5).toString("latin1");
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  return { status: field("grpc-status"), message: decodeURIComponent(field("grpc-message")) };
}

describe("createRpcServer with undecodable requests", () => {
  let server: RpcServer;
  let baseUrl: string;

  before(async () => {
    server = createRpcServer({
      services: [TokenService],
      routes: (router) => router.service(TokenService, { getTokenInfo: (req) => ({ token: { clientId: req.clientId } }) }),
      logger: silentLogger,
    });
    baseUrl = `http://127.0.0.1:${await server.listen(0)}`;
  });
  after(() => server.close());

  const post = (path: string, contentType: string, body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${path}`, { method: "POST", headers: { "content-type": contentType, ...headers }, body });

  it("answers a Connect unary protobuf body that does not parse with 400 invalid_argument", async () => {
    const res = await post(HEALTH_CHECK, "application/proto", UNDECODABLE);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, /not a valid grpc\.health\.v1\.HealthCheckRequest/);
  });

  it("answers gRPC and gRPC-Web bodies that do not parse with INVALID_ARGUMENT (health and reflection alike)", async () => {
    assert.deepEqual((await grpcCall(baseUrl, HEALTH_CHECK, envelope(0, UNDECODABLE))).status, "3");
    assert.deepEqual((await grpcCall(baseUrl, REFLECTION, envelope(0, UNDECODABLE))).status, "3");
    assert.deepEqual((await grpcCall(baseUrl, GET_TOKEN_INFO, envelope(0, UNDECODABLE))).status, "3");
    const web = await post(HEALTH_CHECK, "application/grpc-web+proto", envelope(0, UNDECODABLE));
    assert.equal(web.status, 200);
    assert.equal(grpcWebTrailer(Buffer.from(await web.arrayBuffer())).status, "3");
  });

  it("answers a compressed envelope without an encoding, and corrupt gzip, with INVALID_ARGUMENT", async () => {
    const flagged = await grpcCall(baseUrl, HEALTH_CHECK, envelope(1, Buffer.from("not gzip")));
    assert.deepEqual(flagged, { status: "3", message: "a message is flagged compressed, but the request names no encoding (grpc-encoding)" });
    const truncated = zlib.gzipSync(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "x".repeat(50) }))).subarray(0, 20);
    assert.deepEqual(await grpcCall(baseUrl, HEALTH_CHECK, envelope(1, truncated), { "grpc-encoding": "gzip" }), { status: "3", message: "the request's gzip data is corrupt" });
    const garbage = await post(HEALTH_CHECK, "application/proto", Buffer.from("not gzip at all"), { "content-encoding": "gzip" });
    assert.equal(garbage.status, 400);
  });

  it("answers a Connect GET whose message is not base64, or not the message, with 400 invalid_argument", async () => {
    const bad = await fetch(`${baseUrl}${GET_TOKEN_INFO}?encoding=proto&base64=1&message=%21%21%21`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, "invalid_argument");
    const garbled = await fetch(`${baseUrl}${GET_TOKEN_INFO}?encoding=proto&base64=1&message=${UNDECODABLE.toString("base64url")}`);
    assert.equal(garbled.status, 400);
  });

  it("still serves well-formed requests of every kind", async () => {
    assert.equal((await post(HEALTH_CHECK, "application/proto", new Uint8Array(0))).status, 200);
    assert.equal((await grpcCall(baseUrl, HEALTH_CHECK, envelope(0, new Uint8Array(0)))).status, "0");
    const gz = zlib.gzipSync(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, {})));
    assert.equal((await grpcCall(baseUrl, HEALTH_CHECK, envelope(1, gz), { "grpc-encoding": "gzip" })).status, "0");
    const message = Buffer.from(toBinary(GetTokenInfoRequestSchema, create(GetTokenInfoRequestSchema, { clientId: "c1" }))).toString("base64url");
    const get = await fetch(`${baseUrl}${GET_TOKEN_INFO}?encoding=proto&base64=1&message=${message}`);
    assert.equal(get.status, 200);
  });
});
