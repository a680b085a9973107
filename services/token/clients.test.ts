import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { ConnectionStatus } from "../../gen/reviewflow/token/v1/resources_pb.js";
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

const branchInput = (clientId: string, branchId: string) => ({
  clientId,
  branchId,
  name: `Branch ${branchId}`,
  accountId: "1234567890",
  locationId: "987654321",
  managerEmail: "manager@example.com",
});

describe("TokenService clients and branches", () => {
  const env = useTokenEnv();
  let a: Awaited<ReturnType<typeof createTenant>>;
  let b: Awaited<ReturnType<typeof createTenant>>;

  before(async () => {
    a = await createTenant(env.api[0], "tenant-a");
    b = await createTenant(env.api[0], "tenant-b");
  });

  describe("clients", () => {
    it("creates, reads, updates and deletes a client, never returning its secret", async () => {
      const api = env.api[0];
      const { client } = await api.createClient(
        { name: "Main", googleClientId: DEMO_CLIENT.id, clientSecret: DEMO_CLIENT.secret, redirectUri: REDIRECT_URI },
        as(a.operator),
      );
      assert.ok(client);
      assert.equal(client.tenantId, a.id);
      assert.equal(client.status, ConnectionStatus.NOT_CONNECTED);
      assert.deepEqual(client.scopes, ["https://www.googleapis.com/auth/business.manage"]);
      assert.ok(!JSON.stringify(client, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)).includes(DEMO_CLIENT.secret));
      assert.equal((await api.getClient({ id: client.id }, as(a.reader))).client?.name, "Main");

      const updated = await api.updateClient(
        {
          id: client.id,
          name: "Renamed",
          clientSecret: "rotated-secret",
          scopes: ["https://www.googleapis.com/auth/business.manage", "openid"],
        },
        as(a.operator),
      );
      assert.equal(updated.client?.name, "Renamed");
      assert.deepEqual(updated.client?.scopes, ["https://www.googleapis.com/auth/business.manage", "openid"]);
      assert.equal(updated.client?.redirectUri, REDIRECT_URI);

      const audit = (await env.dataSource.query("SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id", [client.id])) as {
        action: string;
      }[];
      assert.deepEqual(
        audit.map((r) => r.action),
        ["client.create", "client.update"],
      );

      await api.createBranch(branchInput(client.id, "to-be-cascaded"), as(a.operator));
      await api.deleteClient({ id: client.id }, as(a.operator));
      await rejects(api.getClient({ id: client.id }, as(a.reader)), Code.NotFound, new RegExp(`client "${client.id}" not found`));
      await rejects(
        api.getBranchByBranchId({ branchId: "to-be-cascaded" }, admin),
        Code.NotFound,
        /branch with branch_id "to-be-cascaded" not found/,
      );
    });

    it("lets an admin create a client for a named tenant only", async () => {
      const api = env.api[0];
      const input = { name: "Admin-made", googleClientId: DEMO_CLIENT.id, clientSecret: "s", redirectUri: REDIRECT_URI };
      await rejects(api.createClient(input, admin), Code.InvalidArgument, /tenant_id is required when an admin key creates a client/);
      await rejects(api.createClient({ ...input, tenantId: "11111111-1111-4111-8111-111111111111" }, admin), Code.NotFound, /tenant/);
      assert.equal((await api.createClient({ ...input, tenantId: b.id }, admin)).client?.tenantId, b.id);
      await rejects(
        api.createClient({ ...input, tenantId: b.id }, as(a.operator)),
        Code.PermissionDenied,
        /only create clients for its own tenant/,
      );
      assert.equal((await api.createClient({ ...input, tenantId: a.id }, as(a.operator))).client?.tenantId, a.id);
    });

    it("hides another tenant's clients as NOT_FOUND and keeps readers read-only", async () => {
      const api = env.api[0];
      const id = await createOAuthClient(api, a.operator, DEMO_CLIENT, "private");
      await rejects(api.getClient({ id }, as(b.operator)), Code.NotFound, /not found/);
      await rejects(api.updateClient({ id, name: "stolen" }, as(b.operator)), Code.NotFound, /not found/);
      await rejects(api.deleteClient({ id }, as(b.operator)), Code.NotFound, /not found/);
      await rejects(api.getConnectionStatus({ clientId: id }, as(b.reader)), Code.NotFound, /not found/);
      await rejects(api.createBranch(branchInput(id, "sneaky"), as(b.operator)), Code.NotFound, /not found/);
      assert.ok(!(await api.listClients({}, as(b.reader))).clients.some((c) => c.id === id));
      await rejects(api.updateClient({ id, name: "x" }, as(a.reader)), Code.PermissionDenied, /role "reader" may not change clients/);
      await rejects(api.deleteClient({ id }, as(a.reader)), Code.PermissionDenied, /reader/);
      await rejects(
        api.createClient({ name: "x", googleClientId: "g", clientSecret: "s", redirectUri: REDIRECT_URI }, as(a.reader)),
        Code.PermissionDenied,
        /reader/,
      );
      await rejects(
        api.createClient({ name: "x", googleClientId: "g", clientSecret: "s", redirectUri: REDIRECT_URI }, as(a.service)),
        Code.PermissionDenied,
        /service/,
      );
      assert.ok((await api.listClients({}, admin)).clients.some((c) => c.id === id));
    });

    it("pages through clients with opaque page tokens, oldest first", async () => {
      const api = env.api[0];
      const c = await createTenant(api, "tenant-paging");
      const created: string[] = [];
      for (let i = 0; i < 5; i++) created.push(await createOAuthClient(api, c.operator, DEMO_CLIENT, `page-${i}`));
      const seen: string[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const page = await api.listClients({ pageSize: 2, pageToken }, as(c.reader));
        seen.push(...page.clients.map((x) => x.id));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken);
      // every client exactly once (rows created within one millisecond are ordered by id)
      assert.equal(new Set(seen).size, seen.length);
      assert.deepEqual([...seen].sort(), [...created].sort());
      assert.equal(pages, 3);
      await rejects(api.listClients({ pageToken: "garbage" }, as(c.reader)), Code.InvalidArgument, /page_token is not valid/);
    });

    it("rejects bad input with the field named", async () => {
      const api = env.api[0];
      await rejects(api.getClient({ id: "not-a-uuid" }, admin), Code.InvalidArgument, /id/);
      await rejects(
        api.createClient({ name: "", googleClientId: "g", clientSecret: "s", redirectUri: REDIRECT_URI }, as(a.operator)),
        Code.InvalidArgument,
        /name/,
      );
      await rejects(
        api.createClient({ name: "x", googleClientId: "g", clientSecret: "s", redirectUri: "ftp://example.com/cb" }, as(a.operator)),
        Code.InvalidArgument,
        /redirect_uri must be an absolute http\(s\) URL/,
      );
      await rejects(
        api.createClient({ name: "x", googleClientId: "g", clientSecret: "s", redirectUri: "not a uri" }, as(a.operator)),
        Code.InvalidArgument,
        /redirect_uri/,
      );
      await rejects(api.listClients({ pageSize: 501 }, admin), Code.InvalidArgument, /page_size/);
      await rejects(
        api.getClient({ id: "00000000-0000-4000-8000-000000000000" }, admin),
        Code.NotFound,
        /client "00000000-0000-4000-8000-000000000000" not found/,
      );
    });
  });

  describe("branches", () => {
    it("creates a branch under a visible client, finds it by either id, updates and deletes it", async () => {
      const api = env.api[0];
      const clientId = await createOAuthClient(api, a.operator, DEMO_CLIENT, "branches");
      const { branch } = await api.createBranch(branchInput(clientId, "BR-001"), as(a.operator));
      assert.ok(branch);
      assert.equal(branch.tenantId, a.id);
      assert.equal((await api.getBranch({ id: branch.id }, as(a.reader))).branch?.branchId, "BR-001");
      assert.equal((await api.getBranchByBranchId({ branchId: "BR-001" }, as(a.reader))).branch?.id, branch.id);
      await rejects(api.getBranchByBranchId({ branchId: "BR-001" }, as(b.reader)), Code.NotFound, /not found/);
      await rejects(api.getBranch({ id: branch.id }, as(b.reader)), Code.NotFound, /not found/);

      const updated = await api.updateBranch({ id: branch.id, managerEmail: "new.manager@example.com", name: "Renamed" }, as(a.operator));
      assert.equal(updated.branch?.managerEmail, "new.manager@example.com");
      assert.equal(updated.branch?.locationId, "987654321");
      await rejects(api.updateBranch({ id: branch.id, name: "x" }, as(a.reader)), Code.PermissionDenied, /reader/);

      const listed = await api.listBranches({ clientId }, as(a.reader));
      assert.deepEqual(
        listed.branches.map((x) => x.id),
        [branch.id],
      );
      await rejects(api.listBranches({ clientId }, as(b.reader)), Code.NotFound, /client/);

      await api.deleteBranch({ id: branch.id }, as(a.operator));
      await rejects(api.getBranch({ id: branch.id }, as(a.reader)), Code.NotFound, new RegExp(`branch "${branch.id}" not found`));
    });

    it("keeps branch_id unique within a tenant only: tenant B may use an id tenant A has, and learns nothing about A's", async () => {
      const api = env.api[0];
      const mine = await createOAuthClient(api, a.operator, DEMO_CLIENT, "unique-a");
      const theirs = await createOAuthClient(api, b.operator, DEMO_CLIENT, "unique-b");
      const ofA = (await api.createBranch(branchInput(mine, "sec-A-1"), as(a.operator))).branch!;
      const ofB = (await api.createBranch(branchInput(theirs, "sec-A-1"), as(b.operator))).branch!;
      assert.notEqual(ofA.id, ofB.id);
      assert.equal(ofB.tenantId, b.id);
      await rejects(
        api.createBranch(branchInput(theirs, "sec-A-1"), as(b.operator)),
        Code.AlreadyExists,
        /branch_id "sec-A-1" already exists in this tenant/,
      );

      // the seed's by-branch-id route answers within the caller's tenant
      assert.equal((await api.getBranchByBranchId({ branchId: "sec-A-1" }, as(a.reader))).branch?.id, ofA.id);
      assert.equal((await api.getBranchByBranchId({ branchId: "sec-A-1" }, as(b.reader))).branch?.id, ofB.id);
      assert.equal((await api.getBranchByBranchId({ branchId: "sec-A-1", tenantId: b.id }, as(b.reader))).branch?.id, ofB.id);
      await rejects(
        api.getBranchByBranchId({ branchId: "sec-A-1", tenantId: a.id }, as(b.reader)),
        Code.NotFound,
        /branch with branch_id "sec-A-1" not found/,
      );
      // an admin sees every tenant, so it names one when the id is shared
      await rejects(api.getBranchByBranchId({ branchId: "sec-A-1" }, admin), Code.FailedPrecondition, /several tenants/);
      assert.equal((await api.getBranchByBranchId({ branchId: "sec-A-1", tenantId: a.id }, admin)).branch?.id, ofA.id);
      await api.deleteBranch({ id: ofB.id }, as(b.operator));
      assert.equal((await api.getBranchByBranchId({ branchId: "sec-A-1" }, admin)).branch?.id, ofA.id);
    });

    it("validates the manager e-mail and the ids", async () => {
      const api = env.api[0];
      const clientId = await createOAuthClient(api, a.operator, DEMO_CLIENT, "validation");
      await rejects(
        api.createBranch({ ...branchInput(clientId, "BR-X"), managerEmail: "not-an-email" }, as(a.operator)),
        Code.InvalidArgument,
        /manager_email/,
      );
      await rejects(api.createBranch({ ...branchInput(clientId, "has space") }, as(a.operator)), Code.InvalidArgument, /branch_id/);
      await rejects(
        api.createBranch({ ...branchInput(clientId, "BR-Y"), accountId: "accounts/1" }, as(a.operator)),
        Code.InvalidArgument,
        /account_id/,
      );
      await rejects(api.createBranch(branchInput("00000000-0000-4000-8000-000000000000", "BR-Z"), as(a.operator)), Code.NotFound, /client/);
    });
  });

  describe("tenants and API keys", () => {
    it("lets only admin keys manage tenants and keys, shows a key once and stores only its hash", async () => {
      const api = env.api[0];
      await rejects(api.createTenant({ name: "nope" }, as(a.operator)), Code.PermissionDenied, /operator/);
      await rejects(api.listApiKeys({}, as(a.service)), Code.PermissionDenied, /service/);
      await rejects(api.createTenant({ name: "tenant-a" }, admin), Code.AlreadyExists, /tenant named "tenant-a" already exists/);

      const created = await api.createApiKey({ tenantId: a.id, role: 3 /* reader */, name: "dashboard" }, admin);
      assert.match(created.key, /^rfk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
      const stored = (await env.dataSource.query("SELECT secret_hash FROM api_keys WHERE id = $1", [created.apiKey!.id])) as {
        secret_hash: string;
      }[];
      assert.ok(!created.key.includes(stored[0].secret_hash));
      assert.ok((await api.listClients({}, as(created.key))).clients.length >= 0);
      const listed = await api.listApiKeys({ tenantId: a.id }, admin);
      assert.ok(listed.apiKeys.some((k) => k.id === created.apiKey!.id && k.name === "dashboard"));
      assert.ok(!JSON.stringify(listed.apiKeys.map((k) => k.id)).includes(created.key));

      const revoked = await api.revokeApiKey({ id: created.apiKey!.id }, admin);
      assert.ok(revoked.apiKey?.revokeTime);
      await rejects(api.revokeApiKey({ id: "00000000-0000-4000-8000-000000000000" }, admin), Code.NotFound, /API key/);
      await rejects(api.createApiKey({ role: 2 /* operator */ }, admin), Code.InvalidArgument, /tenant_id is required/);
      await rejects(
        api.createApiKey({ tenantId: a.id, role: 1 /* admin */ }, admin),
        Code.InvalidArgument,
        /admin keys belong to no tenant/,
      );
      await rejects(api.createApiKey({ tenantId: a.id, role: 0 }, admin), Code.InvalidArgument, /role/);
      assert.ok((await api.listTenants({}, admin)).tenants.some((t) => t.id === a.id));
      await rejects(api.listTenants({}), Code.Unauthenticated, /API key/);
      await rejects(
        api.listTenants({}, as("rfk_00000000000000000000000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
        Code.Unauthenticated,
        /invalid or revoked API key/,
      );
    });
  });
});
