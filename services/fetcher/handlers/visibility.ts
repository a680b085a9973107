import { Code, ConnectError } from "@connectrpc/connect";
import { canSee, type Caller } from "../../../lib/auth/index.js";
import { FailedPreconditionError, NotFoundError, UnavailableError } from "../../../lib/errors/index.js";
import type { Client } from "../../../gen/reviewflow/token/v1/resources_pb.js";
import { loadJob, type JobRow } from "../store/job-store.js";
import type { Db } from "../store/db.js";
import type { HandlerDeps } from "./handler-deps.js";

/**
 * What a caller may see, for handlers and for list filters alike: another tenant's object is
 * NOT_FOUND, exactly like a missing one, whether it is asked for directly or named as a filter
 * (an empty list would say "yours, or someone else's"; NOT_FOUND says neither).
 */

/** A job the caller may see, or NOT_FOUND. */
export async function visibleJob(db: Db, caller: Caller, jobId: string): Promise<JobRow> {
  const row = await loadJob(db, jobId);
  if (!row || !canSee(caller, row.tenant_id)) throw new NotFoundError("job", jobId);
  return row;
}

/** A client the caller may see (asked of the TokenService, which owns clients), or NOT_FOUND. */
export async function visibleClient(deps: Pick<HandlerDeps, "tokenClient">, caller: Caller, clientId: string): Promise<Client> {
  const client = await lookup(
    "client",
    clientId,
    deps.tokenClient.getClient({ id: clientId }).then((r) => r.client),
  );
  if (!client || !canSee(caller, client.tenantId || null)) throw new NotFoundError("client", clientId);
  return client;
}

/**
 * A TokenService lookup: NOT_FOUND (or an id it refuses) is NOT_FOUND here, an ambiguity it
 * reports stays FAILED_PRECONDITION, anything else is the TokenService being away.
 */
export async function lookup<T>(what: string, id: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.NotFound || e.code === Code.InvalidArgument) throw new NotFoundError(what, id);
    if (e.code === Code.FailedPrecondition) throw new FailedPreconditionError(e.rawMessage);
    throw new UnavailableError(`could not look up ${what} "${id}" at the TokenService (${Code[e.code]}); retry later`);
  }
}
