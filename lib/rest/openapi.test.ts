import assert from "node:assert/strict";
import { ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { collectRestRoutes, createOpenApiDocument, loadProtoComments } from "./index.js";

type Json = Record<string, any>;

describe("loadProtoComments", () => {
  it("reads the comments npm run gen extracted from the descriptor image, keyed by full name", () => {
    const comments = loadProtoComments();
    assert.match(comments.get("reviewflow.token.v1.Client.name") ?? "", /human-friendly name/);
    assert.ok(comments.get("reviewflow.token.v1.TokenService.CreateClient"));
    assert.ok(comments.get("reviewflow.fetcher.v1.CreateFetchJobRequest.target"), "oneofs too");
    assert.equal(loadProtoComments(["/nonexistent/comments.json"]).size, 0);
  });
});

describe("createOpenApiDocument", () => {
  const comments = loadProtoComments();
  const doc = createOpenApiDocument({
    title: "reviewflow",
    version: "1",
    routes: collectRestRoutes([TokenService, ReviewFetcher]),
    comments,
  }) as Json;

  it("documents every route with its operation, proto comment and RPC name", () => {
    assert.equal(doc.openapi, "3.1.0");
    const create = doc.paths["/clients"].post;
    assert.equal(create.operationId, "TokenService_CreateClient");
    assert.equal(create.summary, "Registers a Google OAuth client for the caller's tenant.");
    assert.match(create.description, /reviewflow\.token\.v1\.TokenService\/CreateClient/);
    assert.deepEqual(create.requestBody.content["application/json"].schema, {
      $ref: "#/components/schemas/reviewflow.token.v1.CreateClientRequest",
    });
    assert.ok(doc.paths["/api/v1/status/{job_id}"].get, "additional binding");
  });

  it("takes the success status and the operations open without an API key from the rpcs' options", () => {
    const create = doc.paths["/api/v1/review-fetch"].post;
    assert.deepEqual(Object.keys(create.responses), ["202", "401", "403", "429", "default"]);
    assert.equal(create.security, undefined, "the document's bearer auth");
    const callback = doc.paths["/auth/callback"].get;
    assert.deepEqual(callback.security, []);
    assert.deepEqual(Object.keys(callback.responses), ["200", "429", "default"]);
  });

  it("derives path and query parameters from the request fields, with types and constraints", () => {
    const list = doc.paths["/api/v1/reviews"].get.parameters as Json[];
    const byName = Object.fromEntries(list.map((p) => [p.name, p]));
    assert.deepEqual(Object.keys(byName).sort(), ["client_id", "location_id", "min_rating", "page_size", "page_token", "updated_after"]);
    assert.equal(byName.updated_after.schema.format, "date-time");
    assert.deepEqual([byName.min_rating.schema.minimum, byName.min_rating.schema.maximum], [0, 5]);
    assert.equal(byName.client_id.schema.format, "uuid");
    assert.match(byName.updated_after.description, /updated after/);
    const get = doc.paths["/api/v1/jobs/{job_id}"].get.parameters as Json[];
    assert.deepEqual(
      get.map((p) => [p.name, p.in, p.required]),
      [["job_id", "path", true]],
    );
  });

  it("documents a multi-segment path variable as one parameter with its shape", () => {
    const list = doc.paths["/api/v1/{name}/versions"].get;
    assert.equal(list.operationId, "ReviewFetcher_ListReviewVersions");
    const byName = Object.fromEntries((list.parameters as Json[]).map((p) => [p.name, p]));
    assert.deepEqual(Object.keys(byName).sort(), ["client_id", "name", "page_size", "page_token"]);
    assert.deepEqual([byName.name.in, byName.name.required], ["path", true]);
    assert.equal(byName.name.schema.pattern, "^accounts/[^/]+/locations/[^/]+/reviews/[^/]+$");
    assert.match(byName.name.description, /`accounts\/\*\/locations\/\*\/reviews\/\*`.*%2F/s);
    const page = doc.components.schemas["reviewflow.fetcher.v1.ReviewVersion"];
    assert.ok(page.properties.publish_time && page.properties.type && page.properties.review);
  });

  it("leaves path-bound fields out of a PATCH body", () => {
    const body = doc.paths["/clients/{id}"].patch.requestBody.content["application/json"].schema;
    assert.ok(!("id" in body.properties));
    assert.ok("client_secret" in body.properties);
  });

  it("describes messages with proto names, enums by name with their values' comments, int64 as strings", () => {
    const job = doc.components.schemas["reviewflow.fetcher.v1.FetchJob"];
    assert.ok(job.properties.job_id && job.properties.create_time.format === "date-time");
    const status = doc.components.schemas["reviewflow.fetcher.v1.JobStatus"];
    assert.ok(status.enum.includes("JOB_STATUS_RUNNING"));
    assert.match(status.description, /`JOB_STATUS_FAILED`: Could not run/);
    assert.equal(doc.components.schemas["reviewflow.fetcher.v1.JobCounters"].properties.accounts.type, "string");
  });

  it("resolves every $ref inside the document", () => {
    const refs: string[] = [];
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        for (const [key, value] of Object.entries(node)) {
          if (key === "$ref") refs.push(value as string);
          else walk(value);
        }
      }
    };
    walk(doc);
    assert.ok(refs.length > 50);
    for (const ref of new Set(refs)) {
      const target = ref
        .replace("#/", "")
        .split("/")
        .reduce((node: Json | undefined, key) => node?.[key], doc);
      assert.ok(target, `unresolved ${ref}`);
    }
  });
});
