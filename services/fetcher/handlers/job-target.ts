import { createHash } from "node:crypto";
import { canSee, type Caller } from "../../../lib/auth/index.js";
import { isUuid } from "../../../lib/db/index.js";
import { GoogleApiError } from "../../../lib/google/index.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../../lib/errors/index.js";
import type { CreateFetchJobRequest } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ConnectionStatus, type Client } from "../../../gen/reviewflow/token/v1/resources_pb.js";
import type { HandlerDeps } from "./handler-deps.js";
import { lookup, visibleClient } from "./visibility.js";

/** Who and what a new job fetches, resolved before it is admitted. */
export interface JobTarget {
  tenantId: string | null;
  clientId: string | null;
  branchId: string | null;
  /** Branch jobs: `accounts/{a}/locations/{l}`. */
  targetLocation: string | null;
  locationTitle?: string;
  /** The client id, or `raw-<hash>` for raw-token jobs: owner of locations/reviews and the REVIEWS subject token. */
  scopeKey: string;
  /** The Google project whose quota the job spends (its OAuth client id). */
  googleProject: string;
  accessToken?: string;
}

const NOT_USABLE = new Set([ConnectionStatus.NOT_CONNECTED, ConnectionStatus.NEEDS_REAUTH, ConnectionStatus.REVOKED]);

export async function resolveTarget(deps: HandlerDeps, caller: Caller, req: CreateFetchJobRequest): Promise<JobTarget> {
  switch (req.target.case) {
    case "clientId": {
      const client = await usableClient(deps, caller, req.target.value);
      return {
        tenantId: client.tenantId || null,
        clientId: client.id,
        branchId: null,
        targetLocation: null,
        scopeKey: client.id,
        googleProject: client.googleClientId,
      };
    }
    case "branchId": {
      // branch ids are unique per tenant: the business's own id is looked up in the caller's
      // tenant only (the TokenService is asked with the fetcher's own key, which may see more)
      const branch = await lookup(
        "branch",
        req.target.value,
        isUuid(req.target.value)
          ? deps.tokenClient.getBranch({ id: req.target.value }).then((r) => r.branch)
          : deps.tokenClient.getBranchByBranchId({ branchId: req.target.value, tenantId: caller.tenantId ?? "" }).then((r) => r.branch),
      );
      if (!branch || !canSee(caller, branch.tenantId || null)) throw new NotFoundError("branch", req.target.value);
      const client = await usableClient(deps, caller, branch.clientId);
      return {
        tenantId: client.tenantId || null,
        clientId: client.id,
        branchId: branch.id,
        targetLocation: `accounts/${branch.accountId}/locations/${branch.locationId}`,
        locationTitle: branch.name,
        scopeKey: client.id,
        googleProject: client.googleClientId,
      };
    }
    case "accessToken":
      return rawTokenTarget(deps, caller, req.target.value);
    default:
      throw new InvalidArgumentError("exactly one of client_id, branch_id or access_token is required");
  }
}

/** A client the caller may see whose grant can be used now. */
async function usableClient(deps: HandlerDeps, caller: Caller, clientId: string): Promise<Client> {
  const client = await visibleClient(deps, caller, clientId);
  if (NOT_USABLE.has(client.status)) {
    throw new FailedPreconditionError(
      `client "${clientId}" is ${ConnectionStatus[client.status].toLowerCase()}: complete the consent flow first`,
    );
  }
  return client;
}

/**
 * Raw-token jobs: Google's tokeninfo names the OAuth client (= project) the token belongs to, so
 * the job spends that project's shared quota, and its reviews live under a stable subject token
 * `raw-<hash of tenant and project>` (the same for every token of that project in that tenant).
 * If tokeninfo cannot be reached, the token gets a key of its own: `raw-<hash of the token>`;
 * a token tokeninfo refuses, or one that cannot even be sent, is never admitted.
 */
async function rawTokenTarget(deps: HandlerDeps, caller: Caller, accessToken: string): Promise<JobTarget> {
  let project: string | undefined;
  try {
    const info = await deps.source.tokenInfo(accessToken);
    project = info.clientId;
  } catch (err) {
    if (err instanceof GoogleApiError && err.kind !== "transient") {
      // no HTTP status: the token never left (it cannot be a bearer header), which is the
      // caller's mistake, not tokeninfo being away
      throw new InvalidArgumentError(
        err.kind === "permanent" && err.httpStatus === 0
          ? "access_token is not a bearer token (RFC 6750 b64token characters only)"
          : "access_token was refused by Google's tokeninfo (invalid or expired)",
      );
    }
    deps.logger.warn("tokeninfo unavailable; the job gets a per-token quota key", {
      error_code: err instanceof GoogleApiError ? err.code : "UNKNOWN",
    });
  }
  const tenant = caller.tenantId ?? "admin";
  const key = project ? `${tenant}|${project}` : `token|${accessToken}`;
  const scopeKey = `raw-${createHash("sha256").update(key).digest("hex").slice(0, 24)}`;
  return {
    tenantId: caller.tenantId,
    clientId: null,
    branchId: null,
    targetLocation: null,
    scopeKey,
    googleProject: project ?? scopeKey,
    accessToken,
  };
}
