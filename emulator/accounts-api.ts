// Account Management v1 accounts.list (reference §1.1): pageSize "default and maximum is 20",
// the personal account first, `type=` the only filter, nextPageToken absent on the last page.
import type { IncomingMessage, ServerResponse } from "node:http";
import { admitApiCall } from "./api-gate.js";
import type { EmulatorContext } from "./context.js";
import type { AccountRec } from "./model.js";
import { decodePageToken, encodePageToken, fingerprint, isOffset } from "./page-token.js";
import { bindQuery, isRpcError, parsePageSize } from "./query-params.js";
import { invalidArgument, notFound, sendApiJson, sendRpcError } from "./rpc-errors.js";

const ACCOUNT_TYPES = ["PERSONAL", "LOCATION_GROUP", "USER_GROUP", "ORGANIZATION"];

/** `type=LOCATION_GROUP` (quotes and spaces tolerated); undefined when the filter is unusable. */
function parseTypeFilter(filter: string): string | undefined {
  const m = /^\s*type\s*=\s*"?([A-Z_]+)"?\s*$/.exec(filter);
  return m && ACCOUNT_TYPES.includes(m[1] as string) ? m[1] : undefined;
}

export async function listAccounts(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const call = await admitApiCall(ctx, req, res, url, "accounts.list");
  if (!call) return;
  const bound = bindQuery(url, ["pageSize", "pageToken", "parentAccount", "filter"]);
  if ("error" in bound) return sendRpcError(res, bound.error);
  const { params } = bound;

  const pageSize = parsePageSize(params.get("pageSize"), 20, 20);
  if (isRpcError(pageSize)) return sendRpcError(res, pageSize);

  let accounts: readonly AccountRec[] = ctx.store.accounts;
  const parent = params.get("parentAccount");
  if (parent) {
    const m = /^accounts\/([^/]+)$/.exec(parent);
    if (!m || !ctx.store.findAccount(m[1] as string)) return sendRpcError(res, notFound());
    // The seed has no nested accounts: an organization or group lists no sub-accounts.
    accounts = [];
  }
  const filter = params.get("filter");
  if (filter) {
    const type = parseTypeFilter(filter);
    if (!type) return sendRpcError(res, invalidArgument("filter", "The `type` field is the only supported filter."));
    accounts = accounts.filter((a) => a.type === type);
  }

  const fp = fingerprint("accounts", call.project, parent, filter);
  const token = params.get("pageToken");
  const offset = token ? decodePageToken(token, fp, isOffset) : 0;
  if (isRpcError(offset)) return sendRpcError(res, offset);

  const page = accounts.slice(offset, offset + pageSize);
  const body: Record<string, unknown> = {};
  if (page.length > 0) body.accounts = page.map((a) => a.json);
  if (offset + pageSize < accounts.length) body.nextPageToken = encodePageToken(fp, offset + pageSize);
  sendApiJson(res, body);
}
