import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { FetchJobSchema, JobStatus, ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { StartOAuthResponseSchema, TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { collectRestRoutes, createRouteTable, decodeRestRequest, encodeRestResponse, restErrorOf, type RestRoute } from "./index.js";

const routes = collectRestRoutes([TokenService, ReviewFetcher]);
const table = createRouteTable(routes.map((r) => ({ httpMethod: r.httpMethod, template: r.template, value: r })));

function route(httpMethod: string, path: string): { route: RestRoute; params: Record<string, string> } {
  const m = table.match(httpMethod, path);
  if (m.kind !== "found") throw new Error(`no route for ${httpMethod} ${path}`);
  return { route: m.value, params: m.params };
}

function decode(httpMethod: string, url: string, body?: unknown) {
  const [path, query = ""] = url.split("?");
  const { route: r, params } = route(httpMethod, path);
  return decodeRestRequest(r, { params, query: new URLSearchParams(query), body });
}

function rejects(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (err: unknown) => err instanceof ConnectError && err.code === Code.InvalidArgument && pattern.test(err.rawMessage));
}

const ID = "6f1c8b8e-2b7e-4a0e-9a53-7f3a5e2b9c10";

describe("collectRestRoutes", () => {
  it("derives every REST route of DESIGN.md from the google.api.http annotations", () => {
    const expected = [
      ["POST", "/clients", "CreateClient"],
      ["GET", "/clients", "ListClients"],
      ["GET", `/clients/${ID}`, "GetClient"],
      ["PATCH", `/clients/${ID}`, "UpdateClient"],
      ["DELETE", `/clients/${ID}`, "DeleteClient"],
      ["POST", "/branches", "CreateBranch"],
      ["GET", "/branches", "ListBranches"],
      ["GET", `/branches/${ID}`, "GetBranch"],
      ["GET", "/branches/by-branch-id/B-1", "GetBranchByBranchId"],
      ["PATCH", `/branches/${ID}`, "UpdateBranch"],
      ["DELETE", `/branches/${ID}`, "DeleteBranch"],
      ["GET", `/oauth/start/${ID}`, "StartOAuth"],
      ["GET", `/oauth/login/${ID}`, "OpenLoginLink"],
      ["GET", "/auth/callback", "CompleteOAuth"],
      ["GET", `/tokens/validate/${ID}`, "ValidateToken"],
      ["POST", "/tokens/refresh", "RefreshToken"],
      ["GET", `/tokens/client/${ID}`, "GetTokenInfo"],
      ["DELETE", `/tokens/${ID}`, "RevokeToken"],
      ["POST", "/api/v1/review-fetch", "CreateFetchJob"],
      ["GET", `/api/v1/jobs/${ID}`, "GetFetchJob"],
      ["GET", `/api/v1/status/${ID}`, "GetFetchJob"],
      ["GET", "/api/v1/jobs", "ListFetchJobs"],
      ["GET", `/api/v1/jobs/${ID}/events`, "WatchFetchJob"],
      ["DELETE", `/api/v1/jobs/${ID}`, "CancelFetchJob"],
      ["GET", "/api/v1/reviews", "ListReviews"],
      ["GET", "/api/v1/accounts/1/locations/2/reviews/3/versions", "ListReviewVersions"],
      ["GET", "/api/v1/dead-letters", "ListDeadLetters"],
      ["POST", `/api/v1/dead-letters/${ID}/replay`, "ReplayDeadLetter"],
    ];
    for (const [verb, path, rpc] of expected) assert.equal(route(verb, path).route.method.name, rpc, `${verb} ${path}`);
  });

  it("gives every annotated RPC of both services a route, additional bindings included", () => {
    const annotated = new Set(routes.map((r) => `${r.service.name}/${r.method.name}`));
    assert.equal(annotated.size, TokenService.methods.length + ReviewFetcher.methods.length);
    assert.equal(routes.filter((r) => r.method.name === "GetFetchJob").length, 2);
  });
});

describe("decodeRestRequest", () => {
  it("binds path variables, and the whole body for body: *", () => {
    const req = decode("PATCH", `/clients/${ID}`, { name: "New", scopes: ["a", "b"] });
    assert.equal(req.$typeName, "reviewflow.token.v1.UpdateClientRequest");
    assert.deepEqual({ ...req, $typeName: undefined }, { $typeName: undefined, id: ID, name: "New", scopes: ["a", "b"] });
  });

  it("binds a multi-segment path variable whole, beside query parameters", () => {
    for (const path of [
      "/api/v1/accounts/1/locations/2/reviews/AbC-3_x/versions",
      "/api/v1/accounts%2F1%2Flocations%2F2%2Freviews%2FAbC-3_x/versions",
    ]) {
      const req = decode("GET", `${path}?client_id=${ID}&page_size=2`) as unknown as Record<string, unknown>;
      assert.equal(req.$typeName, "reviewflow.fetcher.v1.ListReviewVersionsRequest");
      assert.deepEqual([req.name, req.clientId, req.pageSize], ["accounts/1/locations/2/reviews/AbC-3_x", ID, 2], path);
    }
  });

  it("accepts both proto (snake_case) and JSON (camelCase) names in bodies and queries", () => {
    const a = decode("POST", "/branches", {
      client_id: ID,
      branchId: "B-1",
      name: "n",
      account_id: "1",
      locationId: "2",
      manager_email: "m@x.io",
    }) as unknown as Record<string, string>;
    assert.equal(a.clientId, ID);
    assert.equal(a.branchId, "B-1");
    const b = decode("GET", "/api/v1/reviews?pageSize=5&location_id=L1") as unknown as Record<string, unknown>;
    assert.equal(b.pageSize, 5);
    assert.equal(b.locationId, "L1");
  });

  it("binds query parameters: integers, Timestamps, enums by full name, short name or number", () => {
    const reviews = decode("GET", `/api/v1/reviews?client_id=${ID}&updated_after=2026-01-01T00:00:00Z&min_rating=4`) as unknown as Record<
      string,
      unknown
    >;
    assert.deepEqual(reviews.updatedAfter, timestampFromDate(new Date("2026-01-01T00:00:00Z")));
    assert.equal(reviews.minRating, 4);
    for (const status of ["JOB_STATUS_RUNNING", "running", "Running", "2"]) {
      const jobs = decode("GET", `/api/v1/jobs?status=${status}`) as unknown as Record<string, unknown>;
      assert.equal(jobs.status, JobStatus.RUNNING, status);
    }
  });

  it("collects repeated query parameters into a list", () => {
    const createClient = routes.find((r) => r.method.name === "CreateClient")!;
    const req = decodeRestRequest(
      { ...createClient, body: "" },
      { params: {}, query: new URLSearchParams("scopes=a&scopes=b&name=x"), body: undefined },
    );
    assert.deepEqual((req as unknown as { scopes: string[] }).scopes, ["a", "b"]);
  });

  it("lets the path win only when the body agrees with it", () => {
    assert.equal((decode("PATCH", `/clients/${ID}`, { id: ID }) as unknown as { id: string }).id, ID);
    rejects(() => decode("PATCH", `/clients/${ID}`, { id: "other" }), /"id" differs between the path and the body/);
  });

  it("rejects unknown fields, unknown parameters and values of the wrong type, saying which", () => {
    rejects(() => decode("POST", "/clients", { name: "x", colour: "red" }), /key "colour" is unknown/);
    rejects(() => decode("GET", "/api/v1/reviews?colour=red"), /unknown query parameter "colour"/);
    rejects(() => decode("GET", "/api/v1/reviews?page_size=ten"), /"page_size" must be a whole number/);
    rejects(() => decode("GET", "/api/v1/reviews?page_size=1&page_size=2"), /given 2 times/);
    rejects(() => decode("GET", "/api/v1/reviews?updated_after=yesterday"), /Timestamp.*RFC 3339/);
    rejects(() => decode("GET", "/api/v1/jobs?status=sleeping"), /"status" must be one of JOB_STATUS_UNSPECIFIED/);
    rejects(() => decode("POST", "/clients", { name: 42 }), /name.*expected string/);
    rejects(() => decode("POST", "/clients", [1, 2]), /must be a JSON object/);
    rejects(() => decode("POST", "/clients?name=x", {}), /reads its fields from the JSON body/);
    rejects(() => decode("GET", `/api/v1/jobs/${ID}?job_id=${ID}`), /already bound/);
  });
});

describe("encodeRestResponse", () => {
  it("writes proto field names, enum names and every field, zero values included", () => {
    const job = route("GET", `/api/v1/jobs/${ID}`).route;
    const json = encodeRestResponse(
      job,
      create(job.method.output, { job: create(FetchJobSchema, { jobId: ID, status: JobStatus.QUEUED }) }),
    ) as Record<string, Record<string, unknown>>;
    assert.equal(json.job.job_id, ID);
    assert.equal(json.job.status, "JOB_STATUS_QUEUED");
    assert.equal(json.job.uses_access_token, false);
    assert.equal(json.job.error, "");
    const start = route("GET", `/oauth/start/${ID}`).route;
    const started = encodeRestResponse(
      start,
      create(StartOAuthResponseSchema, { state: "s", expiresAt: timestampFromDate(new Date("2026-01-01T00:10:00Z")) }),
    ) as Record<string, unknown>;
    assert.equal(started.expires_at, "2026-01-01T00:10:00Z");
    assert.deepEqual(Object.keys(started).sort(), ["authorization_url", "expires_at", "login_url", "state"]);
  });
});

describe("restErrorOf", () => {
  it("maps Connect codes to HTTP statuses and keeps a numeric Retry-After", () => {
    const cases: [Code, number, string][] = [
      [Code.InvalidArgument, 400, "invalid_argument"],
      [Code.FailedPrecondition, 400, "failed_precondition"],
      [Code.Unauthenticated, 401, "unauthenticated"],
      [Code.PermissionDenied, 403, "permission_denied"],
      [Code.NotFound, 404, "not_found"],
      [Code.AlreadyExists, 409, "already_exists"],
      [Code.ResourceExhausted, 429, "resource_exhausted"],
      [Code.Unavailable, 503, "unavailable"],
      [Code.DeadlineExceeded, 504, "deadline_exceeded"],
      [Code.Internal, 500, "internal"],
    ];
    for (const [code, status, name] of cases) {
      const e = restErrorOf(new ConnectError("m", code, new Headers({ "retry-after": "7" })));
      assert.equal(e.status, status);
      assert.deepEqual(e.body, { code: name, message: "m" });
      assert.equal(e.headers["retry-after"], "7");
    }
  });
});
