// What every Business Profile API request passes before its handler runs, in Google's order:
// authentication, scope, the project's quota, then injected faults.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EmulatorContext } from "./context.js";
import { sleep } from "./http-io.js";
import { type AccessRec, BUSINESS_SCOPE, LEGACY_BUSINESS_SCOPE } from "./oauth-store.js";
import { API_SERVICE, projectNumber } from "./quota.js";
import {
  insufficientScopes,
  internalError,
  resourceExhausted,
  type RpcError,
  sendRpcError,
  unauthenticated,
  unavailable,
} from "./rpc-errors.js";
import type { ApiEndpointName, ApiName } from "./types.js";

export const ENDPOINT_API: Readonly<Record<ApiEndpointName, ApiName>> = {
  "accounts.list": "accountmanagement",
  "locations.list": "businessinformation",
  "reviews.list": "mybusiness",
  "reviews.get": "mybusiness",
  "reviews.batchGet": "mybusiness",
  "notificationSetting.get": "notifications",
  "notificationSetting.update": "notifications",
};

export interface ApiCall {
  /** The project (OAuth client id) the token belongs to. */
  project: string;
  access: AccessRec;
}

type Credential = { kind: "none" } | { kind: "unsupported" } | { kind: "bearer"; token: string };

function credentialOf(req: IncomingMessage, url: URL): Credential {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? { kind: "bearer", token: m[1] as string } : { kind: "unsupported" };
  }
  // Google also takes the token as a system query parameter.
  const token = url.searchParams.get("access_token") ?? url.searchParams.get("oauth_token");
  return token ? { kind: "bearer", token } : { kind: "none" };
}

/** Answers the request and returns undefined when it must not reach the handler. */
export async function admitApiCall(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  endpoint: ApiEndpointName,
): Promise<ApiCall | undefined> {
  const api = ENDPOINT_API[endpoint];
  const service = API_SERVICE[api];
  const credential = credentialOf(req, url);
  const found = credential.kind === "bearer" ? ctx.oauth.lookupAccess(credential.token) : undefined;
  ctx.stats.request(endpoint, found?.rec.clientId);

  const reject = (err: RpcError) => {
    sendRpcError(res, err);
    return undefined;
  };
  if (credential.kind === "none") return reject(unauthenticated(service, "CREDENTIALS_MISSING"));
  if (credential.kind === "unsupported" || !found) return reject(unauthenticated(service, "ACCESS_TOKEN_TYPE_UNSUPPORTED"));
  if (!found.valid) return reject(unauthenticated(service, "ACCESS_TOKEN_EXPIRED"));
  const scopes = found.rec.scopes;
  const scoped = scopes.includes(BUSINESS_SCOPE) || (api === "mybusiness" && scopes.includes(LEGACY_BUSINESS_SCOPE));
  if (!scoped) return reject(insufficientScopes(service));

  const project = found.rec.clientId;
  const facts = (limit: number) => ({ service, projectNumber: projectNumber(project), limit });
  const verdict = ctx.quota.admit(project, api);
  if (!verdict.ok) {
    ctx.stats.quotaRejection(project);
    return reject(resourceExhausted(facts(verdict.limit)));
  }

  const { latencyMs, failure } = ctx.faults.roll(endpoint);
  await sleep(latencyMs, ctx.shutdown);
  if (failure?.kind === "rate_limit") return reject(resourceExhausted(facts(ctx.quota.limitFor(project, api))));
  if (failure?.kind === "error") return reject(failure.status === 500 ? internalError() : unavailable());
  return { project, access: found.rec };
}
