import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import * as reflectionV1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as reflectionV1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { silentLogger } from "../log/index.js";
import { createRpcServer, createStandardInterceptors, ServingStatus, type RpcServer } from "./index.js";

describe("createRpcServer", () => {
  let server: RpcServer;
  let baseUrl: string;

  before(async () => {
    server = createRpcServer({
      services: [TokenService],
      routes: (router) =>
        router.service(TokenService, {
          getConnectionStatus: (req) => ({ clientId: req.clientId }),
        }),
      interceptors: createStandardInterceptors({
        logger: silentLogger,
        authenticator: { authenticate: async (key) => (key === "good-key" ? { keyId: "k", role: "admin", tenantId: null } : undefined) },
      }),
      logger: silentLogger,
    });
    const port = await server.listen(0);
    baseUrl = `http://127.0.0.1:${port}`;
  });
  after(() => server.close());

  it("answers grpc.health.v1 Check over gRPC (h2c), for the server and each service", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl }));
    assert.equal((await health.check({ service: "" })).status, ServingStatus.SERVING);
    assert.equal((await health.check({ service: "reviewflow.token.v1.TokenService" })).status, ServingStatus.SERVING);
    await assert.rejects(health.check({ service: "nope.Service" }), (err: unknown) => ConnectError.from(err).code === Code.NotFound);
  });

  it("answers a grpc-js client (gRPC framing as grpcurl and other stacks see it)", async () => {
    const Client = grpc.makeGenericClientConstructor(
      {
        check: {
          path: "/grpc.health.v1.Health/Check",
          requestStream: false,
          responseStream: false,
          requestSerialize: (v: unknown) => Buffer.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, v as object))),
          requestDeserialize: (b: Buffer) => fromBinary(HealthCheckRequestSchema, b),
          responseSerialize: (v: unknown) => Buffer.from(toBinary(HealthCheckResponseSchema, v as never)),
          responseDeserialize: (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
        },
      },
      "Health",
    );
    const client = new Client(baseUrl.replace("http://", ""), grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(req: { service: string }, callback: (err: Error | null, value: { status: number }) => void): void;
    };
    const res = await new Promise<{ status: number }>((resolve, reject) =>
      client.check({ service: "" }, (err: Error | null, value: { status: number }) => (err ? reject(err) : resolve(value))),
    );
    client.close();
    assert.equal(res.status, HealthCheckResponse_ServingStatus.SERVING);
  });

  it("answers Connect JSON over plain HTTP/1.1 on the same port", async () => {
    const res = await fetch(`${baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "SERVING" });
  });

  for (const [version, mod] of [
    ["v1", reflectionV1],
    ["v1alpha", reflectionV1alpha],
  ] as const) {
    it(`lists services and serves descriptors over reflection ${version}`, async () => {
      const client = createClient(mod.ServerReflection as typeof reflectionV1.ServerReflection, createGrpcTransport({ baseUrl }));
      async function* requests() {
        yield create(reflectionV1.ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
        yield create(reflectionV1.ServerReflectionRequestSchema, {
          messageRequest: { case: "fileContainingSymbol", value: "reviewflow.token.v1.TokenService" },
        });
      }
      const answers = [];
      for await (const res of client.serverReflectionInfo(requests())) answers.push(res);
      const [list, files] = answers;
      assert.equal(list.messageResponse.case, "listServicesResponse");
      const services = list.messageResponse.case === "listServicesResponse" ? list.messageResponse.value.service.map((s) => s.name) : [];
      for (const name of [
        "reviewflow.token.v1.TokenService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]) {
        assert.ok(services.includes(name), `missing ${name}`);
      }
      assert.equal(files.messageResponse.case, "fileDescriptorResponse");
      const names =
        files.messageResponse.case === "fileDescriptorResponse"
          ? files.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name)
          : [];
      for (const name of [
        "reviewflow/token/v1/token_service.proto",
        "reviewflow/token/v1/resources.proto",
        "google/api/annotations.proto",
        "google/protobuf/timestamp.proto",
      ]) {
        assert.ok(names.includes(name), `missing ${name}`);
      }
    });
  }

  it("requires an API key on service methods, and validates input after authenticating", async () => {
    const tokens = createClient(TokenService, createGrpcTransport({ baseUrl }));
    await assert.rejects(
      tokens.getConnectionStatus({ clientId: "x" }),
      (err: unknown) => ConnectError.from(err).code === Code.Unauthenticated,
    );
    const authed = { headers: { authorization: "Bearer good-key" } };
    await assert.rejects(tokens.getConnectionStatus({ clientId: "not-a-uuid" }, authed), (err: unknown) => {
      const e = ConnectError.from(err);
      return e.code === Code.InvalidArgument && /client_id/.test(e.rawMessage);
    });
    const id = "6f1c8b8e-2b7e-4a0e-9a53-7f3a5e2b9c10";
    assert.equal((await tokens.getConnectionStatus({ clientId: id }, authed)).clientId, id);
  });

  it("reports NOT_SERVING and stops listening on close", async () => {
    const other = createRpcServer({ services: [TokenService], routes: () => undefined, logger: silentLogger });
    const port = await other.listen(0);
    await other.close();
    assert.equal(other.health.get(""), ServingStatus.NOT_SERVING);
    await assert.rejects(
      fetch(`http://127.0.0.1:${port}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }),
    );
  });
});

describe("createRpcServer metrics", () => {
  it("serves Prometheus text at GET /metrics", async () => {
    const { createMetricsRegistry, Counter } = await import("../metrics/index.js");
    const registry = createMetricsRegistry("test", { processMetrics: false });
    new Counter({ name: "reviewflow_test_total", help: "a test counter", registers: [registry] }).inc(3);
    const server = createRpcServer({ services: [TokenService], routes: () => undefined, logger: silentLogger, metrics: registry });
    const port = await server.listen(0);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /reviewflow_test_total\{service="test"\} 3/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
    } finally {
      await server.close();
    }
  });
});

describe("createLoggingInterceptor", () => {
  it("logs each call's method and code, readable (not redacted), without the caller's key", async () => {
    const { captureLogs } = await import("../../test/helpers/logs.js");
    const logs = captureLogs();
    const server = createRpcServer({
      services: [TokenService],
      routes: (router) => router.service(TokenService, {}),
      interceptors: createStandardInterceptors({ logger: logs.logger, authenticator: { authenticate: async () => undefined } }),
      logger: logs.logger,
    });
    const port = await server.listen(0);
    try {
      const tokens = createClient(TokenService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
      await assert.rejects(tokens.listClients({}, { headers: { authorization: "Bearer rfk_not_a_real_key_but_secret" } }));
      const line = logs.lines().find((l) => l.msg === "rpc");
      assert.equal(line?.method, "reviewflow.token.v1.TokenService/ListClients");
      assert.equal(line?.rpc_code, "Unauthenticated");
      assert.ok(!logs.text().includes("rfk_not_a_real_key_but_secret"));
    } finally {
      await server.close();
    }
  });
});
