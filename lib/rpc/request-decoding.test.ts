import assert from "node:assert/strict";
import zlib from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { HealthCheckRequestSchema } from "../../gen/grpc/health/v1/health_pb.js";
import { GetTokenInfoRequestSchema, TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { useRpcServer } from "../../test/helpers/rpc-server.js";
import { envelope, grpcWebTrailer, rawGrpcCall, UNDECODABLE_PROTOBUF } from "../../test/helpers/wire-clients.js";

const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
const REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
const GET_TOKEN_INFO = "/reviewflow.token.v1.TokenService/GetTokenInfo";

describe("createRpcServer with undecodable requests", () => {
  const rpc = useRpcServer({
    services: [TokenService],
    routes: (router) => router.service(TokenService, { getTokenInfo: (req) => ({ token: { clientId: req.clientId } }) }),
  });

  const post = (path: string, contentType: string, body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${rpc.baseUrl}${path}`, { method: "POST", headers: { "content-type": contentType, ...headers }, body });

  it("answers a Connect unary protobuf body that does not parse with 400 invalid_argument", async () => {
    const res = await post(HEALTH_CHECK, "application/proto", UNDECODABLE_PROTOBUF);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, /not a valid grpc\.health\.v1\.HealthCheckRequest/);
  });

  it("answers gRPC and gRPC-Web bodies that do not parse with INVALID_ARGUMENT (health and reflection alike)", async () => {
    assert.deepEqual((await rawGrpcCall(rpc.baseUrl, HEALTH_CHECK, envelope(0, UNDECODABLE_PROTOBUF))).status, "3");
    assert.deepEqual((await rawGrpcCall(rpc.baseUrl, REFLECTION, envelope(0, UNDECODABLE_PROTOBUF))).status, "3");
    assert.deepEqual((await rawGrpcCall(rpc.baseUrl, GET_TOKEN_INFO, envelope(0, UNDECODABLE_PROTOBUF))).status, "3");
    const web = await post(HEALTH_CHECK, "application/grpc-web+proto", envelope(0, UNDECODABLE_PROTOBUF));
    assert.equal(web.status, 200);
    assert.equal(grpcWebTrailer(Buffer.from(await web.arrayBuffer())).status, "3");
  });

  it("answers a compressed envelope without an encoding, and corrupt gzip, with INVALID_ARGUMENT", async () => {
    const flagged = await rawGrpcCall(rpc.baseUrl, HEALTH_CHECK, envelope(1, Buffer.from("not gzip")));
    assert.deepEqual(flagged, {
      status: "3",
      message: "a message is flagged compressed, but the request names no encoding (grpc-encoding)",
    });
    const truncated = zlib
      .gzipSync(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "x".repeat(50) })))
      .subarray(0, 20);
    assert.deepEqual(await rawGrpcCall(rpc.baseUrl, HEALTH_CHECK, envelope(1, truncated), { "grpc-encoding": "gzip" }), {
      status: "3",
      message: "the request's gzip data is corrupt",
    });
    const garbage = await post(HEALTH_CHECK, "application/proto", Buffer.from("not gzip at all"), { "content-encoding": "gzip" });
    assert.equal(garbage.status, 400);
  });

  it("answers a unary call with no message, two messages, or a body ending inside an envelope with INVALID_ARGUMENT", async () => {
    const empty = envelope(0, new Uint8Array(0));
    assert.equal((await rawGrpcCall(rpc.baseUrl, HEALTH_CHECK, Buffer.alloc(0))).status, "3");
    assert.equal((await rawGrpcCall(rpc.baseUrl, HEALTH_CHECK, Buffer.concat([empty, empty]))).status, "3");
    assert.equal((await rawGrpcCall(rpc.baseUrl, HEALTH_CHECK, envelope(0, Buffer.from([0x0a, 0x01, 0x61])).subarray(0, 6))).status, "3");
    const web = await post(HEALTH_CHECK, "application/grpc-web+proto", Buffer.from([0, 0]));
    assert.equal(grpcWebTrailer(Buffer.from(await web.arrayBuffer())).status, "3");
  });

  it("answers a Connect GET whose message is not base64, or not the message, with 400 invalid_argument", async () => {
    const bad = await fetch(`${rpc.baseUrl}${GET_TOKEN_INFO}?encoding=proto&base64=1&message=%21%21%21`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, "invalid_argument");
    const garbled = await fetch(
      `${rpc.baseUrl}${GET_TOKEN_INFO}?encoding=proto&base64=1&message=${UNDECODABLE_PROTOBUF.toString("base64url")}`,
    );
    assert.equal(garbled.status, 400);
  });

  it("still serves well-formed requests of every kind", async () => {
    assert.equal((await post(HEALTH_CHECK, "application/proto", new Uint8Array(0))).status, 200);
    assert.equal((await rawGrpcCall(rpc.baseUrl, HEALTH_CHECK, envelope(0, new Uint8Array(0)))).status, "0");
    const gz = zlib.gzipSync(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, {})));
    assert.equal((await rawGrpcCall(rpc.baseUrl, HEALTH_CHECK, envelope(1, gz), { "grpc-encoding": "gzip" })).status, "0");
    const message = Buffer.from(toBinary(GetTokenInfoRequestSchema, create(GetTokenInfoRequestSchema, { clientId: "c1" }))).toString(
      "base64url",
    );
    const get = await fetch(`${rpc.baseUrl}${GET_TOKEN_INFO}?encoding=proto&base64=1&message=${message}`);
    assert.equal(get.status, 200);
  });
});
