import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { JobStatus, JobTrigger } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { SyncPolicy } from "../gen/reviewflow/fetcher/v1/sync_pb.js";
import { consentInBrowser, DEMO_GOOGLE_CLIENT, useGatewayStack } from "./helpers/gateway-stack.js";
import { FORGED_PAGE_TOKENS, rejectsWith, TEST_ADMIN_KEY } from "./helpers/index.js";
import { useFetcherFixture, waitForJob, type TestTenant } from "./helpers/fetcher-fixture.js";

/** The interval fields of a policy, in order: mean, min, max. */
const intervals = (p: SyncPolicy | undefined) => [p?.incrementalEverySeconds, p?.minIncrementalSeconds, p?.maxIncrementalSeconds];

describe("ReviewFetcher sync API: policies, freshness per location, job triggers", function () {
  this.timeout(60_000);
  const f = useFetcherFixture({ tokenService: true });
  let a: TestTenant;
  let b: TestTenant;
  let clientA: string;

  before(async () => {
    a = await f.createTenant("sync-a");
    b = await f.createTenant("sync-b");
    clientA = await f.connectClient(a);
    // these tests set the scheduler's columns themselves (skip reasons, due times): its own
    // rounds would overwrite them (test/fetcher-sync.test.ts covers the scheduler)
    await f.fetcher!.scheduler.stop();
  });

  describe("GetSyncPolicy / UpdateSyncPolicy", () => {
    it("reports the environment's defaults, with uses_defaults, to any key of the client's tenant and to admin", async () => {
      const defaults = f.config.fetcher.sync;
      for (const key of [a.reader, a.service, a.operator, undefined]) {
        const { policy } = await f.client(key).getSyncPolicy({ clientId: clientA });
        assert.equal(policy?.clientId, clientA);
        assert.equal(policy?.usesDefaults, true);
        assert.equal(policy?.enabled, defaults.enabled);
        assert.equal(policy?.fullEverySeconds, defaults.fullEverySeconds);
        assert.equal(policy?.adaptive, defaults.adaptive);
        assert.deepEqual(intervals(policy), [
          defaults.incrementalEverySeconds,
          defaults.minIncrementalSeconds,
          defaults.maxIncrementalSeconds,
        ]);
        assert.equal(policy?.skipReason, "", "the scheduler has not skipped it");
        assert.equal(policy?.updateTime, undefined);
      }
    });

    it("changes only the fields a request sets, and audits who changed what", async () => {
      const api = f.client(a.operator);
      const first = (await api.updateSyncPolicy({ clientId: clientA, incrementalEverySeconds: 1_800 })).policy;
      assert.equal(first?.usesDefaults, false);
      assert.ok(first?.updateTime, "a change time once something is set");
      assert.deepEqual(intervals(first), [1_800, 224, 14_400], "bounds follow the client's own mean in the defaults' proportions");
      const second = (await api.updateSyncPolicy({ clientId: clientA, adaptive: false, fullEverySeconds: 43_200 })).policy;
      assert.equal(second?.adaptive, false);
      assert.equal(second?.fullEverySeconds, 43_200);
      assert.equal(second?.incrementalEverySeconds, 1_800, "kept: the request did not set it");
      assert.equal(second?.enabled, f.config.fetcher.sync.enabled, "still the default");
      assert.deepEqual((await f.client(a.reader).getSyncPolicy({ clientId: clientA })).policy, second);

      const unchanged = (await api.updateSyncPolicy({ clientId: clientA })).policy;
      assert.deepEqual(unchanged, second, "a request that sets nothing changes nothing");
      const audit = await f.db.dataSource.query(
        "SELECT tenant_id, action, target_id, details FROM audit_log WHERE action = 'sync_policy.update' ORDER BY id",
      );
      assert.deepEqual(
        audit.map((r: { tenant_id: string; target_id: string; details: unknown }) => [r.tenant_id, r.target_id, r.details]),
        [
          [a.id, clientA, { reset: false, set: { incremental_every_seconds: 1_800 } }],
          [a.id, clientA, { reset: false, set: { adaptive: false, full_every_seconds: 43_200 } }],
        ],
      );
    });

    it("goes back to the defaults on reset, then applies the fields the reset carries", async () => {
      const api = f.client(a.operator);
      const defaults = f.config.fetcher.sync;
      const reset = (await api.updateSyncPolicy({ clientId: clientA, reset: true, enabled: !defaults.enabled })).policy;
      assert.equal(reset?.enabled, !defaults.enabled);
      assert.equal(reset?.adaptive, defaults.adaptive);
      assert.equal(reset?.fullEverySeconds, defaults.fullEverySeconds);
      assert.deepEqual(intervals(reset), [
        defaults.incrementalEverySeconds,
        defaults.minIncrementalSeconds,
        defaults.maxIncrementalSeconds,
      ]);
      assert.equal(reset?.usesDefaults, false);
      const bare = (await api.updateSyncPolicy({ clientId: clientA, reset: true })).policy;
      assert.equal(bare?.usesDefaults, true);
      assert.equal(bare?.enabled, defaults.enabled);
      assert.equal(bare?.updateTime, undefined);
    });

    it("lets only operators and admins change a policy, and only of their own tenant's clients", async () => {
      await rejectsWith(
        f.client(a.reader).updateSyncPolicy({ clientId: clientA, enabled: false }),
        Code.PermissionDenied,
        /change sync policies/,
      );
      await rejectsWith(f.client(a.service).updateSyncPolicy({ clientId: clientA, enabled: false }), Code.PermissionDenied);
      const asB = f.client(b.operator);
      await rejectsWith(asB.getSyncPolicy({ clientId: clientA }), Code.NotFound);
      await rejectsWith(asB.updateSyncPolicy({ clientId: clientA, enabled: false }), Code.NotFound);
      await rejectsWith(asB.listLocations({ clientId: clientA }), Code.NotFound);
      const unknown = "00000000-0000-4000-8000-000000000000";
      await rejectsWith(f.client().getSyncPolicy({ clientId: unknown }), Code.NotFound);
      await rejectsWith(f.client(a.operator).updateSyncPolicy({ clientId: unknown, enabled: false }), Code.NotFound);
      assert.equal((await f.client().updateSyncPolicy({ clientId: clientA, enabled: false })).policy?.enabled, false, "admin may");
      await f.client().updateSyncPolicy({ clientId: clientA, reset: true });
      const count = await f.db.dataSource.query("SELECT count(*)::int AS n FROM sync_policies WHERE enabled IS NOT NULL");
      assert.equal(count[0].n, 0, "the reset left nothing set");
    });

    it("refuses intervals out of range and bounds that contradict each other, storing nothing", async () => {
      const api = f.client(a.operator);
      await rejectsWith(
        api.updateSyncPolicy({ clientId: clientA, incrementalEverySeconds: 10 }),
        Code.InvalidArgument,
        /incremental_every_seconds/,
      );
      await rejectsWith(api.updateSyncPolicy({ clientId: clientA, fullEverySeconds: 60 }), Code.InvalidArgument, /full_every_seconds/);
      await rejectsWith(
        api.updateSyncPolicy({ clientId: clientA, maxIncrementalSeconds: 2_592_001 }),
        Code.InvalidArgument,
        /max_incremental_seconds/,
      );
      await rejectsWith(api.updateSyncPolicy({ clientId: "not-a-uuid" }), Code.InvalidArgument, /client_id/);
      await rejectsWith(
        api.updateSyncPolicy({ clientId: clientA, minIncrementalSeconds: 3_600, maxIncrementalSeconds: 600 }),
        Code.InvalidArgument,
        /min_incremental_seconds \(3600\) must not exceed max_incremental_seconds \(600\)/,
      );
      await api.updateSyncPolicy({ clientId: clientA, incrementalEverySeconds: 600 });
      await rejectsWith(
        api.updateSyncPolicy({ clientId: clientA, minIncrementalSeconds: 900 }),
        Code.InvalidArgument,
        /must not exceed incremental_every_seconds \(600\)/,
      );
      const { policy } = await api.getSyncPolicy({ clientId: clientA });
      assert.equal(policy?.incrementalEverySeconds, 600);
      assert.equal(policy?.minIncrementalSeconds, 75, "the refused min was rolled back");
      await api.updateSyncPolicy({ clientId: clientA, reset: true });
    });

    it("says why the scheduler skips a client", async () => {
      const reason = "needs re-consent: Google refused the refresh token";
      await f.db.dataSource.query(
        `INSERT INTO sync_clients (client_id, tenant_id, google_project, connected, skip_reason) VALUES ($1, $2, 'p', false, $3)
         ON CONFLICT (client_id) DO UPDATE SET connected = false, skip_reason = $3`,
        [clientA, a.id, reason],
      );
      try {
        assert.equal((await f.client(a.reader).getSyncPolicy({ clientId: clientA })).policy?.skipReason, reason);
      } finally {
        await f.db.dataSource.query("UPDATE sync_clients SET connected = true, skip_reason = '' WHERE client_id = $1", [clientA]);
      }
    });
  });

  describe("ListLocations and FetchJob.trigger", () => {
    it("marks a job somebody asked for as ON_DEMAND", async () => {
      const api = f.client(a.operator);
      const created = await api.createFetchJob({ target: { case: "clientId", value: clientA } });
      assert.equal(created.job?.trigger, JobTrigger.ON_DEMAND);
      const done = await waitForJob(api, created.jobId);
      assert.equal(done.status, JobStatus.SUCCEEDED);
      assert.equal(done.trigger, JobTrigger.ON_DEMAND);
      assert.ok((await api.listFetchJobs({ clientId: clientA })).jobs.every((j) => j.trigger === JobTrigger.ON_DEMAND));
    });

    it("lists each location of the client after a job, by Google name, with its review count", async () => {
      const expected = f.emulator.controls
        .data()
        .accounts.flatMap((account) =>
          account.locations.map((l) => ({ name: `${account.name}/${l.name}`, title: l.title, reviews: BigInt(l.reviewCount) })),
        )
        .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      assert.ok(expected.length >= 2, "the seed has locations to page through");
      const { locations, nextPageToken } = await f.client(a.reader).listLocations({ clientId: clientA });
      assert.equal(nextPageToken, "");
      assert.deepEqual(
        locations.map((l) => ({ name: l.googleName, title: l.title, reviews: l.reviewCount })),
        expected,
      );
      for (const location of locations) {
        assert.equal(location.clientId, clientA);
        assert.match(location.locationId, /^[0-9a-f-]{36}$/);
        assert.equal(
          location.incrementalEverySeconds,
          f.config.fetcher.sync.incrementalEverySeconds,
          "the policy's interval until the scheduler sets one",
        );
        if (location.reviewCount > 0n) assert.ok(location.newestUpdateTime, `${location.googleName}: newest update time`);
      }
    });

    it("pages through the locations with tokens it handed out and refuses forged ones", async () => {
      const api = f.client(a.operator);
      const all = (await api.listLocations({ clientId: clientA })).locations.map((l) => l.googleName);
      const paged: string[] = [];
      let pageToken = "";
      do {
        const page = await api.listLocations({ clientId: clientA, pageSize: 1, pageToken });
        assert.ok(page.locations.length <= 1);
        paged.push(...page.locations.map((l) => l.googleName));
        pageToken = page.nextPageToken;
      } while (pageToken);
      assert.deepEqual(paged, all);

      const token = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString("base64url");
      const forgeries = {
        ...FORGED_PAGE_TOKENS,
        "a name of no location": token({ n: "accounts/1", i: "0b4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b" }),
        "a NUL in the name": token({ n: "accounts/1/locations/2\u0000", i: "0b4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b" }),
        "a name too long": token({ n: `accounts/1/locations/${"9".repeat(300)}`, i: "0b4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b" }),
        "an id of no kind": token({ n: "accounts/1/locations/2", i: "1" }),
      };
      for (const [what, forged] of Object.entries(forgeries)) {
        await assert.rejects(api.listLocations({ clientId: clientA, pageToken: forged }), (err: unknown) => {
          const e = ConnectError.from(err);
          assert.equal(Code[e.code], "InvalidArgument", `${what}: ${e.rawMessage}`);
          assert.match(e.rawMessage, /page_token/, what);
          return true;
        });
      }
      await rejectsWith(api.listLocations({ clientId: "" }), Code.InvalidArgument, /client_id/);
      await rejectsWith(api.listLocations({ clientId: clientA, pageSize: 1_001 }), Code.InvalidArgument, /page_size/);
    });

    it("reports the location's own interval, its next pass and whether it is overdue, while the client is scheduled", async () => {
      const api = f.client(a.reader);
      const [first] = (await api.listLocations({ clientId: clientA, pageSize: 1 })).locations;
      await f.db.dataSource.query(
        "UPDATE locations SET interval_seconds = 300, changes_per_day = 2.5, next_due_at = now() - interval '10 minutes' WHERE id = $1",
        [first!.locationId],
      );
      try {
        await f.client(a.operator).updateSyncPolicy({ clientId: clientA, enabled: true });
        const [scheduled] = (await api.listLocations({ clientId: clientA, pageSize: 1 })).locations;
        assert.equal(scheduled?.incrementalEverySeconds, 300);
        assert.equal(scheduled?.changesPerDay, 2.5);
        assert.ok(scheduled?.nextDueTime);
        assert.equal(scheduled?.overdue, true, "10 minutes late on a 5-minute interval");

        await f.client(a.operator).updateSyncPolicy({ clientId: clientA, enabled: false });
        const [off] = (await api.listLocations({ clientId: clientA, pageSize: 1 })).locations;
        assert.equal(off?.nextDueTime, undefined, "a client whose schedule is off has no next pass");
        assert.equal(off?.overdue, false);
      } finally {
        await f.db.dataSource.query("UPDATE locations SET interval_seconds = NULL, changes_per_day = 0, next_due_at = NULL WHERE id = $1", [
          first!.locationId,
        ]);
        await f.client(a.operator).updateSyncPolicy({ clientId: clientA, reset: true });
      }
    });
  });
});

type Json = Record<string, any>;

describe("sync API over the gateway's REST routes", function () {
  this.timeout(60_000);
  const stack = useGatewayStack();
  const ctx = {} as { operator: string; reader: string; clientId: string };

  const rest = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${stack.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const ok = async (method: string, path: string, key: string, body?: unknown, status = 200) => {
    const res = await rest(method, path, key, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  before(async () => {
    const tenant = (await ok("POST", "/tenants", TEST_ADMIN_KEY, { name: "sync-rest" })).tenant.id as string;
    ctx.operator = (await ok("POST", "/api-keys", TEST_ADMIN_KEY, { tenant_id: tenant, role: "ROLE_OPERATOR", name: "op" })).key;
    ctx.reader = (await ok("POST", "/api-keys", TEST_ADMIN_KEY, { tenant_id: tenant, role: "ROLE_READER", name: "reader" })).key;
    const created = await ok("POST", "/clients", ctx.operator, {
      name: "Sync",
      google_client_id: DEMO_GOOGLE_CLIENT.id,
      client_secret: DEMO_GOOGLE_CLIENT.secret,
      redirect_uri: `${stack.base}/auth/callback`,
    });
    ctx.clientId = created.client.id;
    const started = await ok("GET", `/oauth/start/${ctx.clientId}`, ctx.operator);
    const back = await consentInBrowser(started.login_url, "allow");
    assert.equal((await fetch(back, { headers: { accept: "application/json" } })).status, 200);
  });

  it("reads and patches a client's policy at /api/v1/clients/{id}/sync-policy", async () => {
    const path = `/api/v1/clients/${ctx.clientId}/sync-policy`;
    const before = (await ok("GET", path, ctx.reader)).policy;
    assert.equal(before.uses_defaults, true);
    assert.equal(before.client_id, ctx.clientId);
    assert.equal(typeof before.incremental_every_seconds, "number");

    const patched = (await ok("PATCH", path, ctx.operator, { enabled: false })).policy;
    assert.equal(patched.enabled, false);
    assert.equal(patched.uses_defaults, false);
    assert.equal(patched.incremental_every_seconds, before.incremental_every_seconds, "only the field sent changed");
    assert.match(patched.update_time, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual((await ok("GET", path, ctx.reader)).policy, patched);

    const denied = await rest("PATCH", path, ctx.reader, { enabled: true });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, "permission_denied");
    const invalid = await rest("PATCH", path, ctx.operator, { incremental_every_seconds: 10 });
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.message, /incremental_every_seconds/);
    assert.equal((await ok("PATCH", path, ctx.operator, { reset: true })).policy.uses_defaults, true);
  });

  it("lists a client's locations with their freshness at /api/v1/locations?client_id=, and jobs carry their trigger", async () => {
    const created = await ok("POST", "/api/v1/review-fetch", ctx.operator, { client_id: ctx.clientId }, 202);
    assert.equal(created.job.trigger, "JOB_TRIGGER_ON_DEMAND");
    let job: Json = created.job;
    while (job.status === "JOB_STATUS_QUEUED" || job.status === "JOB_STATUS_RUNNING") {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await ok("GET", `/api/v1/jobs/${created.job_id}`, ctx.reader)).job;
    }
    assert.equal(job.status, "JOB_STATUS_SUCCEEDED");
    assert.equal(job.trigger, "JOB_TRIGGER_ON_DEMAND");

    const first = await ok("GET", `/api/v1/locations?client_id=${ctx.clientId}&page_size=1`, ctx.reader);
    assert.equal(first.locations.length, 1);
    assert.match(first.locations[0].google_name, /^accounts\/[^/]+\/locations\/[^/]+$/);
    assert.match(first.locations[0].review_count, /^\d+$/, "int64 is a JSON string");
    assert.ok(first.next_page_token);
    const all = await ok("GET", `/api/v1/locations?client_id=${ctx.clientId}&page_size=1000`, ctx.reader);
    const total = all.locations.reduce((n: number, l: Json) => n + Number(l.review_count), 0);
    assert.equal(total, stack.emulator.controls.data().totalReviews);
    assert.equal((await rest("GET", "/api/v1/locations", ctx.reader)).status, 400, "client_id is required");
  });
});
