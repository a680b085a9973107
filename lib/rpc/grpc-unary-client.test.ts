import assert from "node:assert/strict";
import net from "node:net";
import { create, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type CallOptions } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  GetConnectionStatusRequestSchema,
  GetTokenInfoRequestSchema,
  RefreshTokenRequestSchema,
  TokenService,
  ValidateTokenRequestSchema,
  type ValidateTokenResponse,
} from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { useRpcServer } from "../../test/helpers/rpc-server.js";
import { silentLogger } from "../log/index.js";
import { NotFoundError, ResourceExhaustedError } from "../errors/index.js";
import { createGrpcUnaryClient, createServiceSessions, createStandardInterceptors } from "./index.js";

const CLIENT_ID = "0b6b1d8e-3c6f-4b8e-9f7a-2b8f5a1c9d11";
const KEY = { authorization: "Bearer good-key" };

describe("createGrpcUnaryClient", () => {
  // the hanging method's hooks: when a call reaches it, and when the service sees it end
  const hanging = { started: () => undefined as void, ended: () => undefined as void };
  const rpc = useRpcServer({
    services: [TokenService],
    routes: (router) =>
      router.service(TokenService, {
        // what reaches the service: the caller's metadata and deadline
        validateToken: (req, ctx) => ({
          accessToken: `${req.clientId} ${ctx.requestHeader.get("x-request-id")}`,
          tokenType: ctx.timeoutMs() === undefined ? "no-deadline" : "deadline",
          scopes: ["a", "b"],
        }),
        getConnectionStatus: (req) => {
          throw new NotFoundError("client", req.clientId);
        },
        refreshToken: () => {
          throw new ResourceExhaustedError("slow down", 7);
        },
        async getTokenInfo(_req, ctx) {
          // answers only when the call ends: deadlines and cancellation are the caller's
          hanging.started();
          await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
          hanging.ended();
          return {};
        },
      }),
    interceptors: createStandardInterceptors({
      logger: silentLogger,
      authenticator: { authenticate: async (key) => (key === "good-key" ? { keyId: "k", role: "admin", tenantId: null } : undefined) },
    }),
  });
  const lean = () => createGrpcUnaryClient(createServiceSessions(rpc.baseUrl));
  const connect = () => createClient(TokenService, createGrpcTransport({ baseUrl: rpc.baseUrl }));

  /** The same call through connect-es's client and ours: both settle alike. */
  async function both(
    method: keyof typeof TokenService.method,
    input: Message,
    options: CallOptions & { headers?: Record<string, string> },
  ) {
    const call = async (p: () => Promise<Message>): Promise<Outcome> =>
      p().then(
        (value) => ({ value }),
        (err: unknown) => ({ err: ConnectError.from(err) }),
      );
    const client = connect() as unknown as Record<string, (i: Message, o: CallOptions) => Promise<Message>>;
    return {
      theirs: await call(() => client[TokenService.method[method].localName]!(input, options)),
      ours: await call(() => lean().call(TokenService.method[method], input, options)),
    };
  }

  function sameError(a: Outcome, b: Outcome) {
    assert.ok(a.err && b.err, "both calls fail");
    assert.equal(b.err.code, a.err.code);
    assert.equal(b.err.rawMessage, a.err.rawMessage);
    assert.deepEqual(b.err.details, a.err.details);
    for (const name of ["grpc-status", "grpc-message", "retry-after", "content-type"])
      assert.equal(b.err.metadata.get(name), a.err.metadata.get(name), name);
  }

  it("answers with the output message, the caller's metadata and deadline passed on", async () => {
    const input = create(ValidateTokenRequestSchema, { clientId: CLIENT_ID });
    const { theirs, ours } = await both("validateToken", input, { headers: { ...KEY, "x-request-id": "req-1" }, timeoutMs: 5_000 });
    assert.deepEqual(ours, theirs);
    const answer = ours.value as ValidateTokenResponse;
    assert.equal(answer.accessToken, `${CLIENT_ID} req-1`);
    assert.equal(answer.tokenType, "deadline");
    const without = (await lean().call(TokenService.method.validateToken, input, { headers: KEY })) as ValidateTokenResponse;
    assert.equal(without.tokenType, "no-deadline");
  });

  it("fails as connect-es's client does: code, message, details and metadata of the service's answer", async () => {
    const status = create(GetConnectionStatusRequestSchema, { clientId: CLIENT_ID });
    // a domain error, a refused key, protovalidate's field violations (details), retry-after metadata
    sameError(...pair(await both("getConnectionStatus", status, { headers: KEY })));
    sameError(...pair(await both("getConnectionStatus", status, { headers: { authorization: "Bearer wrong" } })));
    const invalid = await both("validateToken", create(ValidateTokenRequestSchema, { clientId: "not-a-uuid" }), { headers: KEY });
    sameError(...pair(invalid));
    assert.equal(invalid.ours.err?.code, Code.InvalidArgument);
    assert.ok(invalid.ours.err!.details.length > 0, "field violations travel as details");
    const limited = await both("refreshToken", create(RefreshTokenRequestSchema, { clientId: CLIENT_ID }), { headers: KEY });
    sameError(...pair(limited));
    assert.equal(limited.ours.err?.metadata.get("retry-after"), "7");
  });

  it("ends a call at its deadline with DEADLINE_EXCEEDED", async () => {
    const { theirs, ours } = await both("getTokenInfo", create(GetTokenInfoRequestSchema, { clientId: CLIENT_ID }), {
      headers: KEY,
      timeoutMs: 50,
    });
    assert.equal(ours.err?.code, Code.DeadlineExceeded);
    assert.equal(ours.err?.code, theirs.err?.code);
  });

  it("cancels a call when its signal aborts, and the service sees the cancellation", async () => {
    const started = new Promise<void>((resolve) => (hanging.started = resolve));
    const ended = new Promise<void>((resolve) => (hanging.ended = resolve));
    const abort = new AbortController();
    const call = lean().call(TokenService.method.getTokenInfo, create(GetTokenInfoRequestSchema, { clientId: CLIENT_ID }), {
      headers: KEY,
      signal: abort.signal,
    });
    await started;
    abort.abort();
    await assert.rejects(call, (err: unknown) => ConnectError.from(err).code === Code.Canceled);
    await ended;
    // an already aborted signal never sends the call
    await assert.rejects(
      lean().call(TokenService.method.validateToken, create(ValidateTokenRequestSchema, { clientId: CLIENT_ID }), {
        headers: KEY,
        signal: AbortSignal.abort(),
      }),
      (err: unknown) => ConnectError.from(err).code === Code.Canceled,
    );
  });

  it("reports an unreachable service UNAVAILABLE with no gRPC status, as connect-es does", async () => {
    const port = await closedPort();
    const client = createGrpcUnaryClient(createServiceSessions(`http://127.0.0.1:${port}`));
    const theirs = createClient(TokenService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    const input = create(ValidateTokenRequestSchema, { clientId: CLIENT_ID });
    const [a, b] = await Promise.all([
      theirs.validateToken(input).catch((e: unknown) => ConnectError.from(e)),
      client.call(TokenService.method.validateToken, input).catch((e: unknown) => ConnectError.from(e)),
    ]);
    assert.ok(a instanceof ConnectError && b instanceof ConnectError);
    assert.equal(b.code, Code.Unavailable);
    assert.equal(b.code, a.code);
    assert.equal(b.metadata.has("grpc-status"), false);
  });

  it("answers calls made at once, each with its own metadata", async () => {
    const client = lean();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.call(TokenService.method.validateToken, create(ValidateTokenRequestSchema, { clientId: CLIENT_ID }), {
          headers: { ...KEY, "x-request-id": `r${i}` },
        }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => (a as ValidateTokenResponse).accessToken),
      answers.map((_, i) => `${CLIENT_ID} r${i}`),
    );
  });
});

interface Outcome {
  value?: Message;
  err?: ConnectError;
}

function pair<T>(r: { theirs: T; ours: T }): [T, T] {
  return [r.theirs, r.ours];
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
