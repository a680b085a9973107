// Business Information v1 accounts.locations.list (reference §1.2): readMask required, pageSize
// default 10 and maximum 100, orderBy only over title and storeCode, `accounts/-` for every
// location the user can reach.
import type { IncomingMessage, ServerResponse } from "node:http";
import { admitApiCall } from "./api-gate.js";
import type { EmulatorContext } from "./context.js";
import type { LocationRec } from "./model.js";
import { decodePageToken, encodePageToken, fingerprint, isOffset } from "./page-token.js";
import { bindQuery, isRpcError, parsePageSize } from "./query-params.js";
import { applyReadMask, parseReadMask, valueAt } from "./read-mask.js";
import { invalidArgument, notFound, readMaskRequired, type RpcError, sendApiJson, sendRpcError } from "./rpc-errors.js";

interface SortKey {
  field: "title" | "storeCode";
  desc: boolean;
}

/** "title, storeCode desc"; the typings spell it store_code, both are taken. */
function parseOrderBy(raw: string): SortKey[] | undefined {
  const keys: SortKey[] = [];
  for (const part of raw.split(",")) {
    const m = /^\s*(title|storeCode|store_code)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!m) return undefined;
    keys.push({ field: (m[1] as string).toLowerCase() === "title" ? "title" : "storeCode", desc: m[2]?.toLowerCase() === "desc" });
  }
  return keys;
}

/**
 * A small subset of Google's location filter language: `field="value"` or `field:value`
 * conditions on dotted paths, joined with AND. Enough for tests that filter by title or city.
 */
function parseFilter(raw: string): ((loc: LocationRec) => boolean) | undefined {
  const conditions: ((loc: LocationRec) => boolean)[] = [];
  for (const clause of raw.split(/\s+AND\s+/)) {
    const m = /^\s*([A-Za-z_][\w.]*)\s*(=|:)\s*(?:"([^"]*)"|(\S+))\s*$/.exec(clause);
    if (!m) return undefined;
    const path = (m[1] as string).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const wanted = m[3] ?? (m[4] as string);
    conditions.push((loc) => {
      const v = valueAt(loc.json, path);
      return Array.isArray(v) ? v.map(String).includes(wanted) : v !== undefined && String(v) === wanted;
    });
  }
  return (loc) => conditions.every((c) => c(loc));
}

function sortLocations(locations: LocationRec[], keys: readonly SortKey[]): LocationRec[] {
  return [...locations].sort((a, b) => {
    for (const k of keys) {
      const c = a[k.field].localeCompare(b[k.field]);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  });
}

export async function listLocations(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  accountId: string,
): Promise<void> {
  const call = await admitApiCall(ctx, req, res, url, "locations.list");
  if (!call) return;
  const bound = bindQuery(url, ["readMask", "pageSize", "pageToken", "filter", "orderBy"]);
  if ("error" in bound) return sendRpcError(res, bound.error);
  const { params } = bound;

  const fail = (err: RpcError) => sendRpcError(res, err);
  const mask = params.get("readMask");
  if (!mask) return fail(readMaskRequired());
  const paths = parseReadMask(mask);
  if (!paths) return fail(invalidArgument("read_mask", "Invalid field mask provided", "Invalid field mask provided"));
  const pageSize = parsePageSize(params.get("pageSize"), 10, 100);
  if (isRpcError(pageSize)) return fail(pageSize);

  let locations: LocationRec[];
  if (accountId === "-") locations = ctx.store.accounts.flatMap((a) => a.locations);
  else {
    const account = ctx.store.findAccount(accountId);
    if (!account) return fail(notFound());
    locations = account.locations;
  }

  const filter = params.get("filter");
  if (filter) {
    const predicate = parseFilter(filter);
    if (!predicate) return fail(invalidArgument("filter", "Invalid filter."));
    locations = locations.filter(predicate);
  }
  const orderBy = params.get("orderBy");
  if (orderBy) {
    const keys = parseOrderBy(orderBy);
    if (!keys) return fail(invalidArgument("order_by", "Only title and storeCode are valid orderBy fields."));
    locations = sortLocations(locations, keys);
  }

  const fp = fingerprint("locations", call.project, accountId, mask, filter, orderBy);
  const token = params.get("pageToken");
  const offset = token ? decodePageToken(token, fp, isOffset) : 0;
  if (isRpcError(offset)) return fail(offset);

  const page = locations.slice(offset, offset + pageSize);
  const body: Record<string, unknown> = {};
  if (page.length > 0) body.locations = page.map((l) => applyReadMask(l.json, paths));
  if (offset + pageSize < locations.length) body.nextPageToken = encodePageToken(fp, offset + pageSize);
  // "totalSize ... only returned if filter is used".
  if (filter && locations.length > 0) body.totalSize = locations.length;
  sendApiJson(res, body);
}
