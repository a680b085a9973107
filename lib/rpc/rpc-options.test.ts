import assert from "node:assert/strict";
import { ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { BrowserPage, rpcOptions } from "./rpc-options.js";

const methods = [...TokenService.methods, ...ReviewFetcher.methods];
const named = (keep: (m: (typeof methods)[number]) => boolean) => methods.filter(keep).map((m) => `${m.parent.name}/${m.name}`);

describe("rpcOptions", () => {
  it("reads which RPCs need no API key from (reviewflow.options.v1.no_api_key)", () => {
    assert.deepEqual(
      named((m) => rpcOptions(m).noApiKey),
      ["TokenService/OpenLoginLink", "TokenService/CompleteOAuth"],
    );
  });

  it("reads the REST success status, 200 where the rpc names none", () => {
    assert.deepEqual(
      named((m) => rpcOptions(m).httpSuccessStatus !== 200),
      ["ReviewFetcher/CreateFetchJob"],
    );
    assert.equal(rpcOptions(ReviewFetcher.method.createFetchJob).httpSuccessStatus, 202);
  });

  it("reads which consent page an RPC is", () => {
    assert.equal(rpcOptions(TokenService.method.openLoginLink).browserPage, BrowserPage.CONSENT_START);
    assert.equal(rpcOptions(TokenService.method.completeOAuth).browserPage, BrowserPage.CONSENT_RESULT);
    assert.deepEqual(
      named((m) => rpcOptions(m).browserPage !== BrowserPage.UNSPECIFIED),
      ["TokenService/OpenLoginLink", "TokenService/CompleteOAuth"],
    );
  });

  it("reads which answers carry a credential", () => {
    assert.deepEqual(
      named((m) => rpcOptions(m).answersWithCredential),
      ["TokenService/StartOAuth", "TokenService/OpenLoginLink", "TokenService/ValidateToken", "TokenService/CreateApiKey"],
    );
  });

  it("hands out the same frozen answer on every call", () => {
    const first = rpcOptions(TokenService.method.getClient);
    assert.equal(rpcOptions(TokenService.method.getClient), first);
    assert.ok(Object.isFrozen(first));
    assert.deepEqual(
      { ...first },
      { noApiKey: false, httpSuccessStatus: 200, browserPage: BrowserPage.UNSPECIFIED, answersWithCredential: false },
    );
  });
});
