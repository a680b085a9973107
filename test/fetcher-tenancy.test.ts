import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { FORGED_PAGE_TOKENS, JUNK_ACCESS_TOKENS, NUL, rejectsWith } from "./helpers/index.js";
import { pauseAndSettle, useFetcherFixture, type TestTenant } from "./helpers/fetcher-fixture.js";

const codeOf = (err: unknown) => Code[ConnectError.from(err).code];

describe("ReviewFetcher between tenants: fair admission, hostile input, scoped ids", function () {
  this.timeout(60_000);
  const f = useFetcherFixture({ tokenService: true, env: { FETCH_MAX_ACTIVE_JOBS: "8", FETCH_MAX_ACTIVE_JOBS_PER_TENANT: "3" } });
  let a: TestTenant;
  let b: TestTenant;
  let clientA: string;
  let clientB: string;

  before(async () => {
    a = await f.createTenant("tenancy-a");
    b = await f.createTenant("tenancy-b");
    clientA = await f.connectClient(a);
    clientB = await f.connectClient(b);
  });

  it("lets tenant B's job in while tenant A floods admission with junk tokens and fills its own bound", async () => {
    const admin = f.client();
    await pauseAndSettle(admin, f.streams.nats, "accounts");
    try {
      const asA = f.client(a.operator);
      const tokeninfoBefore = f.emulator.controls.stats().requests.tokeninfo ?? 0;
      const outcomes = new Set<string>();
      for (let batch = 0; batch < 10; batch++) {
        const junk = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            asA.createFetchJob({
              target: { case: "accessToken", value: JUNK_ACCESS_TOKENS[(batch * 10 + i) % JUNK_ACCESS_TOKENS.length] },
            }),
          ),
        );
        for (const r of junk) outcomes.add(r.status === "rejected" ? codeOf(r.reason) : "admitted");
      }
      assert.deepEqual([...outcomes], ["InvalidArgument"], "all 100 junk tokens refused");
      assert.equal(f.emulator.controls.stats().requests.tokeninfo ?? 0, tokeninfoBefore, "no junk token left for Google");

      // A fills its own bound with jobs that are valid, and queued (the first stage is paused)
      const admitted: string[] = [];
      for (let i = 0; i < 3; i++)
        admitted.push((await asA.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } })).jobId);
      await rejectsWith(
        asA.createFetchJob({ target: { case: "clientId", value: clientA } }),
        Code.ResourceExhausted,
        /FETCH_MAX_ACTIVE_JOBS_PER_TENANT=3/,
      );

      const forB = await f.client(b.operator).createFetchJob({ target: { case: "clientId", value: clientB } });
      assert.equal(forB.status, JobStatus.QUEUED);
      assert.equal(forB.job?.tenantId, b.id);
      for (const jobId of [...admitted, forB.jobId]) await admin.cancelFetchJob({ jobId });
    } finally {
      await admin.resumeStage({ stage: "accounts" });
    }
  });

  it("answers INVALID_ARGUMENT, never 500 or 503, to a NUL in any field", async () => {
    const api = f.client(b.operator);
    await rejectsWith(
      api.createFetchJob({ target: { case: "clientId", value: clientB }, requestId: `r${NUL}` }),
      Code.InvalidArgument,
      /request_id: must not contain NUL/,
    );
    await rejectsWith(
      api.createFetchJob({ target: { case: "branchId", value: `BR${NUL}` } }),
      Code.InvalidArgument,
      /branch_id: must not contain NUL/,
    );
    await rejectsWith(api.listReviews({ locationId: `loc${NUL}` }), Code.InvalidArgument, /location_id: must not contain NUL/);
  });

  it("answers INVALID_ARGUMENT to a forged page token on every paged list", async () => {
    const api = f.client(b.reader);
    const name = "accounts/1/locations/2/reviews/3";
    const version = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString("base64url");
    const versionForgeries = {
      ...FORGED_PAGE_TOKENS,
      "a row id past bigint": version({ r: "99999999999999999999", v: 1 }),
      "version 0": version({ r: "1", v: 0 }),
    };
    const lists: [string, Record<string, string>, (pageToken: string) => Promise<unknown>][] = [
      ["ListFetchJobs", FORGED_PAGE_TOKENS, (pageToken) => api.listFetchJobs({ pageToken })],
      ["ListReviews", FORGED_PAGE_TOKENS, (pageToken) => api.listReviews({ pageToken })],
      ["ListDeadLetters", FORGED_PAGE_TOKENS, (pageToken) => api.listDeadLetters({ pageToken })],
      ["ListReviewVersions", versionForgeries, (pageToken) => api.listReviewVersions({ name, pageToken })],
    ];
    for (const [list, forgeries, call] of lists) {
      for (const [what, forged] of Object.entries(forgeries)) {
        await rejectsWith(call(forged), Code.InvalidArgument, /page_token/).catch((err: Error) => {
          throw new Error(`${list} with ${what}: ${err.message}`);
        });
      }
    }
  });

  it("resolves a job's branch_id within the caller's tenant when two tenants use the same id", async () => {
    const branch = (clientId: string) => ({
      clientId,
      branchId: "sec-A-1",
      name: "Shared id",
      accountId: "1",
      locationId: "2",
      managerEmail: "m@example.com",
    });
    const ofA = (await f.tokens.createBranch(branch(clientA))).branch!;
    const ofB = (await f.tokens.createBranch(branch(clientB))).branch!;
    const admin = f.client();
    await pauseAndSettle(admin, f.streams.nats, "reviews");
    try {
      const jobB = (await f.client(b.operator).createFetchJob({ target: { case: "branchId", value: "sec-A-1" } })).job!;
      assert.deepEqual([jobB.branchId, jobB.clientId, jobB.tenantId], [ofB.id, clientB, b.id]);
      const jobA = (await f.client(a.operator).createFetchJob({ target: { case: "branchId", value: "sec-A-1" } })).job!;
      assert.deepEqual([jobA.branchId, jobA.tenantId], [ofA.id, a.id]);
      // A cannot reach B's branch by its reviewflow id either
      await rejectsWith(f.client(a.operator).createFetchJob({ target: { case: "branchId", value: ofB.id } }), Code.NotFound);
      // an admin sees both tenants: the business's id alone is ambiguous, the reviewflow id is not
      await rejectsWith(
        admin.createFetchJob({ target: { case: "branchId", value: "sec-A-1" } }),
        Code.FailedPrecondition,
        /several tenants/,
      );
      const byId = (await admin.createFetchJob({ target: { case: "branchId", value: ofA.id } })).job!;
      assert.equal(byId.tenantId, a.id);
      for (const job of [jobA, jobB, byId]) await admin.cancelFetchJob({ jobId: job.jobId });
    } finally {
      await admin.resumeStage({ stage: "reviews" });
    }
  });

  it("answers NOT_FOUND, as the direct routes do, to a list filtered by another tenant's client or job", async () => {
    const jobOfA = (await f.client(a.operator).listFetchJobs({})).jobs[0];
    assert.ok(jobOfA, "tenant A has jobs from the tests above");
    const asB = f.client(b.reader);
    await rejectsWith(asB.listReviews({ clientId: clientA }), Code.NotFound, /client/);
    await rejectsWith(asB.listFetchJobs({ clientId: clientA }), Code.NotFound, /client/);
    await rejectsWith(asB.listDeadLetters({ jobId: jobOfA.jobId }), Code.NotFound, /job/);
    await rejectsWith(asB.getFetchJob({ jobId: jobOfA.jobId }), Code.NotFound, /job/);
    // the same filters on the caller's own ids (or any id, for an admin) list as before
    assert.deepEqual(
      (await asB.listReviews({ clientId: clientB })).reviews.map((r) => r.clientId).filter((c) => c !== clientB),
      [],
    );
    assert.ok((await asB.listFetchJobs({ clientId: clientB })).jobs.every((j) => j.clientId === clientB));
    assert.ok((await f.client().listFetchJobs({ clientId: clientA })).jobs.length > 0);
    assert.deepEqual((await f.client(a.reader).listDeadLetters({ jobId: jobOfA.jobId })).deadLetters, []);
    // a client nobody has is NOT_FOUND too, not an empty list
    await rejectsWith(asB.listFetchJobs({ clientId: "00000000-0000-4000-8000-000000000000" }), Code.NotFound, /client/);
  });
});
