import assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { useRpcServer } from "../../test/helpers/rpc-server.js";
import { rpcOptions } from "./rpc-options.js";

describe("credential-bearing answers", () => {
  const rpc = useRpcServer({
    services: [TokenService],
    routes: (router) =>
      router.service(TokenService, {
        validateToken: () => ({ accessToken: "ya29.live", tokenType: "Bearer" }),
        getTokenInfo: () => ({}),
      }),
  });

  it("names the RPCs whose answers carry a live credential", () => {
    const marked = TokenService.methods.filter((m) => rpcOptions(m).answersWithCredential).map((m) => m.name);
    assert.deepEqual(marked, ["StartOAuth", "OpenLoginLink", "ValidateToken", "CreateApiKey"]);
  });

  it("answers ValidateToken with Cache-Control: no-store over Connect and gRPC, and JSON with nosniff", async () => {
    const res = await fetch(`${rpc.baseUrl}/reviewflow.token.v1.TokenService/ValidateToken`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    let header: Headers | undefined;
    await createClient(TokenService, createGrpcTransport({ baseUrl: rpc.baseUrl })).validateToken({}, { onHeader: (h) => (header = h) });
    assert.equal(header?.get("cache-control"), "no-store");
  });

  it("leaves other answers cacheable as before, still with nosniff", async () => {
    const res = await fetch(`${rpc.baseUrl}/reviewflow.token.v1.TokenService/GetTokenInfo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.headers.get("cache-control"), null);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal((await fetch(`${rpc.baseUrl}/nope`)).headers.get("x-content-type-options"), "nosniff");
  });
});
