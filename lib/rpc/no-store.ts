import type { Interceptor } from "@connectrpc/connect";
import { rpcOptions } from "./rpc-options.js";

/**
 * RPCs whose answer carries a live credential — ValidateToken (a Google access token), StartOAuth
 * (a one-time login link and the OAuth state), OpenLoginLink (Google's consent URL with that
 * state), CreateApiKey (the new key, shown once) — say so in the .proto with
 * `(reviewflow.options.v1.answers_with_credential)`. No browser, proxy or CDN may keep a copy, so
 * these answers say `Cache-Control: no-store` on every port and protocol, REST included.
 */
export const NO_STORE = { "cache-control": "no-store" } as const;

/** Marks the answers of the credential-bearing RPCs `Cache-Control: no-store` (Connect, gRPC, gRPC-Web). */
export function createNoStoreInterceptor(): Interceptor {
  return (next) => async (req) => {
    const res = await next(req);
    if (rpcOptions(req.method).answersWithCredential) res.header.set("cache-control", NO_STORE["cache-control"]);
    return res;
  };
}
