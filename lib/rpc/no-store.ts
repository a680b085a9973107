import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";

/**
 * RPCs whose answer carries a live credential: ValidateToken (a Google access token), StartOAuth
 * (a one-time login link and the OAuth state), OpenLoginLink (Google's consent URL with that
 * state), CreateApiKey (the new key, shown once). No browser, proxy or CDN may keep a copy, so
 * these answers say `Cache-Control: no-store` on every port and protocol, REST included.
 * The one list of them: the .proto has no custom method options to carry the fact.
 */
const CREDENTIAL_ANSWERS: readonly DescMethod[] = [
  TokenService.method.validateToken,
  TokenService.method.startOAuth,
  TokenService.method.openLoginLink,
  TokenService.method.createApiKey,
];

const procedures = new Set(CREDENTIAL_ANSWERS.map((m) => `${m.parent.typeName}/${m.name}`));

/** True when the answer of `method` carries a live credential and must not be stored by any cache. */
export function answersWithCredential(method: Pick<DescMethod, "name" | "parent">): boolean {
  return procedures.has(`${method.parent.typeName}/${method.name}`);
}

export const NO_STORE = { "cache-control": "no-store" } as const;

/** Marks the answers of the credential-bearing RPCs `Cache-Control: no-store` (Connect, gRPC, gRPC-Web). */
export function createNoStoreInterceptor(): Interceptor {
  return (next) => async (req) => {
    const res = await next(req);
    if (answersWithCredential(req.method)) res.header.set("cache-control", NO_STORE["cache-control"]);
    return res;
  };
}
