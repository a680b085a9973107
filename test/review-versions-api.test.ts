import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import { FetchMode, JobStatus, type ReviewVersion } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventType } from "../gen/reviewflow/reviews/v1/events_pb.js";
import { ReviewSchema, type Review } from "../gen/reviewflow/reviews/v1/review_pb.js";
import { useGatewayStack } from "./helpers/gateway-stack.js";
import { useFetcherFixture, waitForJob, type TestTenant } from "./helpers/fetcher-fixture.js";
import { TEST_ADMIN_KEY } from "./helpers/index.js";

type VersionType = "created" | "updated" | "deleted";

interface SeedVersion {
  type: VersionType;
  comment?: string;
  /** Published on REVIEWS (default true). */
  published?: boolean;
  jobId?: string | null;
}

interface SeededReview {
  /** The reviews row's id. */
  rowId: string;
  locationId: string;
  /** The content of each version, in order. */
  contents: Review[];
  observed: Date[];
  jobIds: (string | null)[];
}

const HOUR = 3_600_000;
/**
 * Seeded times sit 20 days back, inside REVIEW_RETENTION_DAYS (30): a fixed date ages out, and the
 * fixture's maintenance pass then purges the older versions these tests read.
 */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 20 * 24 * HOUR;

/**
 * Writes one stored review with its versions straight into the database, as the pipeline would
 * (a `locations` row for the owner, the `reviews` row at its last version, one `review_versions`
 * row per version), so these tests do not depend on the pipeline that writes them.
 */
async function seedReview(
  ds: DataSource,
  owner: { tenantId: string | null; clientId: string | null },
  name: string,
  versions: SeedVersion[],
  lastSeenAt = new Date(T0 + 100 * HOUR),
): Promise<SeededReview> {
  const locationName = name.slice(0, name.lastIndexOf("/reviews/"));
  const scopeKey = owner.clientId ?? `raw-${owner.tenantId}`;
  const [location] = (await ds.query(
    `INSERT INTO locations (id, scope_key, google_name, tenant_id, client_id) VALUES (gen_random_uuid(), $1, $2, $3, $4)
     ON CONFLICT (scope_key, google_name) DO UPDATE SET updated_at = now() RETURNING id`,
    [scopeKey, locationName, owner.tenantId, owner.clientId],
  )) as { id: string }[];
  const contents: Review[] = [];
  const observed: Date[] = [];
  const jobIds: (string | null)[] = [];
  let current: Review | undefined;
  versions.forEach((v, i) => {
    const at = new Date(T0 + i * HOUR);
    if (v.type !== "deleted" || !current) {
      current = create(ReviewSchema, {
        name,
        reviewId: name.split("/").at(-1)!,
        starRating: 1 + (i % 5),
        comment: v.comment ?? `version ${i + 1}`,
        createTime: timestampFromDate(new Date(T0 - 24 * HOUR)),
        updateTime: timestampFromDate(at),
        locationName,
      });
    }
    contents.push(current);
    observed.push(at);
    jobIds.push(v.jobId === undefined ? randomUUID() : v.jobId);
  });
  const last = contents.at(-1)!;
  const deleted = versions.at(-1)!.type === "deleted";
  const [review] = (await ds.query(
    `INSERT INTO reviews (location_id, name, tenant_id, client_id, star_rating, update_time, review_pb, content_hash,
       first_seen_at, last_seen_at, deleted_at, version, changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
    [
      location.id,
      name,
      owner.tenantId,
      owner.clientId,
      last.starRating,
      timestampDate(last.updateTime!),
      Buffer.from(toBinary(ReviewSchema, last)),
      "seeded",
      observed[0],
      lastSeenAt,
      deleted ? observed.at(-1) : null,
      versions.length,
      observed.at(-1),
    ],
  )) as { id: string }[];
  for (const [i, v] of versions.entries()) {
    await ds.query(
      `WITH v AS (
         INSERT INTO review_versions (review_id, version, type, review_pb, update_time, job_id, observed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING review_id, version, job_id, observed_at)
       INSERT INTO review_publications (review_id, version, job_id, observed_at, published_at)
       SELECT review_id, version, job_id, observed_at, $8 FROM v`,
      [
        review.id,
        i + 1,
        v.type,
        Buffer.from(toBinary(ReviewSchema, contents[i])),
        timestampDate(contents[i].updateTime!),
        jobIds[i],
        observed[i],
        v.published === false ? null : new Date(observed[i].getTime() + 1000),
      ],
    );
  }
  return { rowId: review.id, locationId: location.id, contents, observed, jobIds };
}

const codeOf = (err: unknown) => Code[ConnectError.from(err).code];
async function rejects(call: Promise<unknown>, code: keyof typeof Code, pattern?: RegExp): Promise<ConnectError> {
  let caught: ConnectError | undefined;
  await assert.rejects(call, (err: unknown) => {
    caught = ConnectError.from(err);
    assert.equal(codeOf(err), code, caught.message);
    if (pattern) assert.match(caught.rawMessage, pattern);
    return true;
  });
  return caught!;
}

const typeNames = (versions: ReviewVersion[]) => versions.map((v) => [v.version, ReviewEventType[v.type]]);

describe("ListReviewVersions (versions seeded in the database)", function () {
  this.timeout(30_000);
  const f = useFetcherFixture({ tokenService: true });
  let acme: TestTenant;
  let globex: TestTenant;
  const acmeClient = randomUUID();
  const acmeSecondClient = randomUUID();
  const globexClient = randomUUID();
  const name = "accounts/9001/locations/77/reviews/AbCd-123_x";
  const globexName = "accounts/9002/locations/88/reviews/globex-only";
  let seeded: SeededReview;

  before(async () => {
    acme = await f.createTenant("acme");
    globex = await f.createTenant("globex");
    seeded = await seedReview(f.db.dataSource, { tenantId: acme.id, clientId: acmeClient }, name, [
      { type: "created", comment: "Nice" },
      { type: "updated", comment: "Nice, but slow" },
      { type: "deleted" },
      { type: "created", comment: "Back again", jobId: null },
      { type: "updated", comment: "Back and happy", published: false },
    ]);
    await seedReview(f.db.dataSource, { tenantId: globex.id, clientId: globexClient }, globexName, [{ type: "created" }]);
  });

  it("lists a review's versions oldest first with their content, type, job and times (readers may)", async () => {
    const { versions, nextPageToken } = await f.client(acme.reader).listReviewVersions({ name });
    assert.equal(nextPageToken, "");
    assert.deepEqual(typeNames(versions), [
      [1, "CREATED"],
      [2, "UPDATED"],
      [3, "DELETED"],
      [4, "CREATED"],
      [5, "UPDATED"],
    ]);
    versions.forEach((v, i) => {
      assert.equal(v.review?.name, name);
      assert.equal(v.review?.comment, seeded.contents[i].comment);
      assert.deepEqual(v.review?.updateTime, seeded.contents[i].updateTime);
      assert.equal(v.locationId, seeded.locationId);
      assert.equal(v.clientId, acmeClient);
      assert.equal(v.jobId, seeded.jobIds[i] ?? "");
      assert.equal(timestampDate(v.observeTime!).getTime(), seeded.observed[i].getTime());
    });
    // a deletion carries the review as it was last stored
    assert.equal(versions[2].review?.comment, "Nice, but slow");
    assert.equal(versions[3].jobId, "", "a version no job observed has no job id");
    assert.equal(timestampDate(versions[0].publishTime!).getTime(), seeded.observed[0].getTime() + 1000);
    assert.equal(versions[4].publishTime, undefined, "unset until published");
  });

  it("pages by version with next_page_token until the last page", async () => {
    const api = f.client(acme.operator);
    const pages: number[][] = [];
    let pageToken = "";
    do {
      const page = await api.listReviewVersions({ name, pageSize: 2, pageToken });
      pages.push(page.versions.map((v) => v.version));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(pages, [[1, 2], [3, 4], [5]]);
    const exact = await api.listReviewVersions({ name, pageSize: 5 });
    assert.equal(exact.versions.length, 5);
    assert.equal(exact.nextPageToken, "", "no empty last page when the page is exactly full");
  });

  it("answers NOT_FOUND alike for an unknown review and another tenant's, and lets admin see every tenant's", async () => {
    const mine = f.client(acme.reader);
    const unknown = await rejects(mine.listReviewVersions({ name: "accounts/9001/locations/77/reviews/nope" }), "NotFound");
    const theirs = await rejects(mine.listReviewVersions({ name: globexName }), "NotFound");
    assert.equal(theirs.rawMessage.replace(globexName, "X"), unknown.rawMessage.replace("accounts/9001/locations/77/reviews/nope", "X"));
    await rejects(f.client(globex.operator).listReviewVersions({ name }), "NotFound");
    await rejects(f.client(globex.service).listReviewVersions({ name, clientId: acmeClient }), "NotFound");
    assert.equal((await f.client(globex.reader).listReviewVersions({ name: globexName })).versions.length, 1);
    assert.equal((await f.client().listReviewVersions({ name })).versions.length, 5);
    assert.equal((await f.client().listReviewVersions({ name: globexName })).versions[0].clientId, globexClient);
  });

  it("reads the copy of the client asked for when several clients reach the location, and keeps it across pages", async () => {
    const second = "accounts/9001/locations/77/reviews/shared-1";
    // two clients of one tenant stored the review; the copy seen most recently is the default
    const older = await seedReview(
      f.db.dataSource,
      { tenantId: acme.id, clientId: acmeSecondClient },
      second,
      [{ type: "created" }, { type: "updated" }, { type: "updated" }],
      new Date(T0),
    );
    const newer = await seedReview(
      f.db.dataSource,
      { tenantId: acme.id, clientId: acmeClient },
      second,
      [{ type: "created" }, { type: "updated" }],
      new Date(T0 + 200 * HOUR),
    );
    const api = f.client(acme.reader);
    const any = await api.listReviewVersions({ name: second });
    assert.deepEqual([any.versions.length, any.versions[0].clientId, any.versions[0].locationId], [2, acmeClient, newer.locationId]);
    const chosen = await api.listReviewVersions({ name: second, clientId: acmeSecondClient, pageSize: 1 });
    assert.deepEqual(
      [chosen.versions.length, chosen.versions[0].clientId, chosen.versions[0].locationId],
      [1, acmeSecondClient, older.locationId],
    );
    await rejects(api.listReviewVersions({ name: second, clientId: randomUUID() }), "NotFound");

    // a page token stays on its copy even when the client filter is left out on the next page
    let pageToken = chosen.nextPageToken;
    const rest: string[] = [];
    while (pageToken) {
      const page = await api.listReviewVersions({ name: second, pageSize: 1, pageToken });
      rest.push(...page.versions.map((v) => `${v.clientId}@${v.version}`));
      pageToken = page.nextPageToken;
    }
    assert.deepEqual(rest, [`${acmeSecondClient}@2`, `${acmeSecondClient}@3`]);
    // but never onto another review or a client it was not returned for
    await rejects(api.listReviewVersions({ name, pageToken: chosen.nextPageToken }), "InvalidArgument", /page_token/);
    await rejects(
      api.listReviewVersions({ name: second, clientId: acmeClient, pageToken: chosen.nextPageToken }),
      "InvalidArgument",
      /page_token/,
    );
  });

  it("answers INVALID_ARGUMENT to a malformed name, client id, page size or page token", async () => {
    const api = f.client(acme.reader);
    for (const bad of [
      "",
      "accounts/1/locations/2",
      "accounts/1/locations/2/reviews/",
      "accounts/1/locations/2/reviews/3/extra",
      "locations/2/reviews/3",
      `accounts/1/locations/2/reviews/${"x".repeat(400)}`,
    ]) {
      await rejects(api.listReviewVersions({ name: bad }), "InvalidArgument");
    }
    await rejects(api.listReviewVersions({ name, clientId: "not-a-uuid" }), "InvalidArgument");
    await rejects(api.listReviewVersions({ name, pageSize: 501 }), "InvalidArgument");
    for (const token of [
      "garbage",
      Buffer.from('{"r":"1","v":0}').toString("base64url"),
      Buffer.from('{"r":"x","v":2}').toString("base64url"),
      Buffer.from('{"t":"2026-01-01T00:00:00Z","i":"1"}').toString("base64url"),
    ]) {
      await rejects(api.listReviewVersions({ name, pageToken: token }), "InvalidArgument", /page_token/);
    }
  });
});

// Needs the pipeline that writes review_versions (issue 10, item 1), which is being rewritten
// beside this work: until it lands, a job stores reviews without versions and this test fails.
describe("ListReviewVersions after a real FULL job", function () {
  this.timeout(60_000);
  const f = useFetcherFixture({
    tokenService: true,
    emulator: { seed: { accounts: 1, locationsPerAccount: 2, reviewsPerLocation: [5, 20] } },
  });

  it("lists exactly one version, 1, CREATED and published, for a review the job stored", async () => {
    const tenant = await f.createTenant("acme");
    const clientId = await f.connectClient(tenant);
    const api = f.client(tenant.operator);
    const created = await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL });
    const job = await waitForJob(api, created.jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);

    const [stored] = (await api.listReviews({ clientId, pageSize: 1 })).reviews;
    assert.ok(stored?.review, "the job stored reviews");
    const { versions, nextPageToken } = await f.client(tenant.reader).listReviewVersions({ name: stored.review.name });
    assert.equal(nextPageToken, "");
    assert.deepEqual(typeNames(versions), [[1, "CREATED"]]);
    const [v1] = versions;
    assert.deepEqual(v1.review, stored.review);
    assert.equal(v1.jobId, created.jobId);
    assert.equal(v1.clientId, clientId);
    assert.equal(v1.locationId, stored.locationId);
    assert.ok(v1.observeTime && v1.publishTime, "observed and published");
    await rejects(f.client((await f.createTenant("globex")).reader).listReviewVersions({ name: stored.review.name }), "NotFound");
  });
});

describe("GET /api/v1/{name=accounts/*/locations/*/reviews/*}/versions through the gateway", function () {
  this.timeout(30_000);
  const stack = useGatewayStack();
  const name = "accounts/31/locations/41/reviews/r-59";
  const ctx = {} as { readerA: string; operatorB: string; clientA: string };

  const get = async (path: string, key?: string) => {
    const res = await fetch(`${stack.base}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  before(async () => {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${stack.base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
      return (await res.json()) as Record<string, any>;
    };
    const tenantA = (await post("/tenants", { name: "tenant-a" })).tenant.id as string;
    const tenantB = (await post("/tenants", { name: "tenant-b" })).tenant.id as string;
    ctx.readerA = (await post("/api-keys", { tenant_id: tenantA, role: "ROLE_READER", name: "reader" })).key;
    ctx.operatorB = (await post("/api-keys", { tenant_id: tenantB, role: "ROLE_OPERATOR", name: "operator" })).key;
    ctx.clientA = randomUUID();
    await seedReview(stack.dataSource, { tenantId: tenantA, clientId: ctx.clientA }, name, [
      { type: "created", comment: "First" },
      { type: "updated", comment: "Second", published: false },
    ]);
  });

  it("answers the review's versions as REST JSON, with the name's slashes plain or percent-encoded", async () => {
    for (const path of [`/api/v1/${name}/versions`, `/api/v1/${encodeURIComponent(name)}/versions`]) {
      const { status, body } = await get(path, ctx.readerA);
      assert.equal(status, 200, `${path}: ${JSON.stringify(body)}`);
      assert.deepEqual(
        body.versions.map((v: any) => [v.version, v.type, v.review.comment]),
        [
          [1, "REVIEW_EVENT_TYPE_CREATED", "First"],
          [2, "REVIEW_EVENT_TYPE_UPDATED", "Second"],
        ],
      );
      assert.equal(body.versions[0].client_id, ctx.clientA);
      assert.match(body.versions[0].observe_time, /^\d{4}-\d\d-\d\dT/);
      assert.ok(!("publish_time" in body.versions[1]), "unset until published");
      assert.equal(body.next_page_token, "");
    }
    const first = await get(`/api/v1/${name}/versions?page_size=1`, ctx.readerA);
    assert.deepEqual(
      first.body.versions.map((v: any) => v.version),
      [1],
    );
    const second = await get(`/api/v1/${name}/versions?page_size=1&page_token=${first.body.next_page_token}`, ctx.readerA);
    assert.deepEqual(
      second.body.versions.map((v: any) => v.version),
      [2],
    );
  });

  it("answers 404 for another tenant's review, 400 for a bad page token, 401 without a key", async () => {
    const other = await get(`/api/v1/${name}/versions`, ctx.operatorB);
    assert.equal(other.status, 404);
    assert.equal(other.body.code, "not_found");
    assert.equal((await get("/api/v1/accounts/31/locations/41/reviews/missing/versions", ctx.readerA)).status, 404);
    const bad = await get(`/api/v1/${name}/versions?page_token=garbage`, ctx.readerA);
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /page_token/);
    assert.equal((await get(`/api/v1/${name}/versions`)).status, 401);
  });

  it("is in /openapi.json as one path parameter spanning several segments", async () => {
    const { status, body } = await get("/openapi.json");
    assert.equal(status, 200);
    const op = body.paths["/api/v1/{name}/versions"]?.get;
    assert.equal(op?.operationId, "ReviewFetcher_ListReviewVersions");
    assert.match(op.parameters.find((p: any) => p.name === "name").description, /accounts\/\*\/locations\/\*\/reviews\/\*/);
  });
});
