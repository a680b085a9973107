import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { FORGED_PAGE_TOKENS, NUL } from "../../test/helpers/index.js";
import {
  admin,
  as,
  createOAuthClient,
  createTenant,
  DEMO_CLIENT,
  REDIRECT_URI,
  rejects,
  useTokenEnv,
} from "../../test/helpers/token-service.js";

describe("TokenService refuses input Postgres cannot hold", () => {
  const env = useTokenEnv();
  let a: Awaited<ReturnType<typeof createTenant>>;
  let clientId: string;
  let branchId: string;

  before(async () => {
    const api = env.api[0];
    a = await createTenant(api, "hostile-a");
    clientId = await createOAuthClient(api, a.operator, DEMO_CLIENT, "hostile");
    branchId = (
      await api.createBranch(
        { clientId, branchId: "H-1", name: "H", accountId: "1", locationId: "2", managerEmail: "m@example.com" },
        as(a.operator),
      )
    ).branch!.id;
  });

  it("answers INVALID_ARGUMENT naming the field for a NUL in any string field of any RPC, and stores nothing", async () => {
    const api = env.api[0];
    const nul = (call: Promise<unknown>, field: string) =>
      rejects(call, Code.InvalidArgument, new RegExp(`${field.replace(/[[\]]/g, "\\$&")}: must not contain NUL`));
    const client = { name: "c", googleClientId: DEMO_CLIENT.id, clientSecret: "s", redirectUri: REDIRECT_URI };
    const branch = { clientId, branchId: "H-2", name: "b", accountId: "1", locationId: "2", managerEmail: "m@example.com" };
    await nul(api.createTenant({ name: `t${NUL}` }, admin), "name");
    await nul(api.createClient({ ...client, name: `c${NUL}` }, as(a.operator)), "name");
    await nul(api.createClient({ ...client, googleClientId: `g${NUL}` }, as(a.operator)), "google_client_id");
    await nul(api.createClient({ ...client, clientSecret: `s${NUL}` }, as(a.operator)), "client_secret");
    await nul(api.createClient({ ...client, scopes: ["openid", `x${NUL}`] }, as(a.operator)), "scopes[1]");
    await nul(api.updateClient({ id: clientId, name: `n${NUL}` }, as(a.operator)), "name");
    await nul(api.updateClient({ id: clientId, clientSecret: `s${NUL}` }, as(a.operator)), "client_secret");
    await nul(api.createBranch({ ...branch, name: `b${NUL}` }, as(a.operator)), "name");
    await nul(api.updateBranch({ id: branchId, name: `b${NUL}` }, as(a.operator)), "name");
    await nul(api.createApiKey({ tenantId: a.id, role: 3, name: `k${NUL}` }, admin), "name");
    await nul(api.getBranchByBranchId({ branchId: `H-1${NUL}` }, as(a.reader)), "branch_id");
    await nul(api.completeOAuth({ code: `c${NUL}`, state: "s" }), "code");
    // only what before() made: no write slipped past the guard
    const [counts] = (await env.dataSource.query(
      "SELECT (SELECT count(*) FROM tenants)::int AS tenants, (SELECT count(*) FROM clients)::int AS clients, (SELECT count(*) FROM branches)::int AS branches",
    )) as { tenants: number; clients: number; branches: number }[];
    assert.deepEqual(counts, { tenants: 1, clients: 1, branches: 1 });
  });

  it("answers INVALID_ARGUMENT to a forged page token on every paged list", async () => {
    const api = env.api[0];
    const lists: [string, (pageToken: string) => Promise<unknown>][] = [
      ["ListClients", (pageToken) => api.listClients({ pageToken }, as(a.reader))],
      ["ListBranches", (pageToken) => api.listBranches({ pageToken }, as(a.reader))],
      ["ListBranches by client", (pageToken) => api.listBranches({ clientId, pageToken }, as(a.reader))],
      ["ListTenants", (pageToken) => api.listTenants({ pageToken }, admin)],
      ["ListApiKeys", (pageToken) => api.listApiKeys({ pageToken }, admin)],
    ];
    for (const [list, call] of lists) {
      for (const [what, forged] of Object.entries(FORGED_PAGE_TOKENS)) {
        await rejects(call(forged), Code.InvalidArgument, /page_token/).catch((err: Error) => {
          throw new Error(`${list} with ${what}: ${err.message}`);
        });
      }
    }
  });
});
