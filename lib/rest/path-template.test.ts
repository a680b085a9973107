import assert from "node:assert/strict";
import { createRouteTable, matchPathTemplate, parsePathTemplate, PathDecodeError, PathTemplateError } from "./index.js";

describe("parsePathTemplate / matchPathTemplate", () => {
  it("binds single-segment variables and decodes them in full", () => {
    const t = parsePathTemplate("/api/v1/jobs/{job_id}/events");
    assert.equal(t.openApiPath, "/api/v1/jobs/{job_id}/events");
    assert.deepEqual(matchPathTemplate(t, "/api/v1/jobs/abc/events"), { job_id: "abc" });
    assert.deepEqual(matchPathTemplate(t, "/api/v1/jobs/a%2Fb%20c/events"), { job_id: "a/b c" });
    assert.equal(matchPathTemplate(t, "/api/v1/jobs/abc"), undefined);
    assert.equal(matchPathTemplate(t, "/api/v1/jobs//events"), undefined);
    assert.equal(matchPathTemplate(t, "/api/v1/jobs/abc/events/more"), undefined);
  });

  it("binds multi-segment variables, ** and custom verbs", () => {
    const t = parsePathTemplate("/v1/{name=shelves/*/books/*}:publish");
    assert.deepEqual(matchPathTemplate(t, "/v1/shelves/s1/books/b2:publish"), { name: "shelves/s1/books/b2" });
    assert.equal(matchPathTemplate(t, "/v1/shelves/s1/books/b2"), undefined);
    assert.equal(matchPathTemplate(t, "/v1/racks/s1/books/b2:publish"), undefined);
    const rest = parsePathTemplate("/files/{path=**}");
    assert.deepEqual(matchPathTemplate(rest, "/files/a/b/c.txt"), { path: "a/b/c.txt" });
  });

  it("binds a multi-segment variable followed by literal segments", () => {
    const t = parsePathTemplate("/api/v1/{name=accounts/*/locations/*/reviews/*}/versions");
    assert.equal(t.openApiPath, "/api/v1/{name}/versions");
    assert.deepEqual(t.variables, [{ fieldPath: "name", start: 2, end: 8 }]);
    assert.deepEqual(matchPathTemplate(t, "/api/v1/accounts/1/locations/2/reviews/3/versions"), {
      name: "accounts/1/locations/2/reviews/3",
    });
    // everything but a slash is decoded; an encoded slash inside one segment stays encoded
    assert.deepEqual(matchPathTemplate(t, "/api/v1/accounts/1/locations/2/reviews/a%20b%2Fc/versions"), {
      name: "accounts/1/locations/2/reviews/a b%2Fc",
    });
    for (const bad of [
      "/api/v1/accounts/1/locations/2/reviews/3",
      "/api/v1/accounts/1/locations/2/reviews/3/versions/4",
      "/api/v1/accounts/1/locations/2/reviews//versions",
      "/api/v1/accounts/1/places/2/reviews/3/versions",
      "/api/v1/accounts/1/locations/2/versions",
    ]) {
      assert.equal(matchPathTemplate(t, bad), undefined, bad);
    }
  });

  it("rejects malformed templates with the reason", () => {
    for (const bad of ["api/v1", "/a/{b", "/a/{b}/{b}", "/a/**/c", "/a/{1x}"]) {
      assert.throws(() => parsePathTemplate(bad), PathTemplateError, bad);
    }
  });

  it("reports bad percent-encoding in a bound segment", () => {
    assert.throws(() => matchPathTemplate(parsePathTemplate("/clients/{id}"), "/clients/%E0%A4%A"), PathDecodeError);
  });
});

describe("createRouteTable", () => {
  const entry = (httpMethod: string, path: string) => ({ httpMethod, template: parsePathTemplate(path), value: `${httpMethod} ${path}` });

  it("prefers the more literal template whatever the declaration order", () => {
    const table = createRouteTable([
      entry("GET", "/branches/{id}"),
      entry("GET", "/branches/by-branch-id"),
      entry("GET", "/branches/by-branch-id/{branch_id}"),
    ]);
    const found = table.match("GET", "/branches/by-branch-id");
    assert.equal(found.kind === "found" && found.value, "GET /branches/by-branch-id");
    const deep = table.match("GET", "/branches/by-branch-id/B-1");
    assert.deepEqual(deep.kind === "found" && deep.params, { branch_id: "B-1" });
  });

  it("tells a wrong method (405 with the allowed ones) from a missing path (404)", () => {
    const table = createRouteTable([entry("GET", "/clients/{id}"), entry("DELETE", "/clients/{id}")]);
    assert.deepEqual(table.match("PUT", "/clients/x"), { kind: "method_not_allowed", allowed: ["GET", "DELETE"] });
    assert.equal(table.match("GET", "/nope").kind, "not_found");
    assert.equal(table.match("HEAD", "/clients/x").kind, "found");
  });

  it("takes a multi-segment variable's slashes percent-encoded, as OpenAPI clients send them", () => {
    const table = createRouteTable([
      entry("GET", "/api/v1/{name=accounts/*/locations/*/reviews/*}/versions"),
      entry("GET", "/api/v1/jobs/{job_id}"),
      entry("DELETE", "/api/v1/jobs/{job_id}"),
    ]);
    const versions = "GET /api/v1/{name=accounts/*/locations/*/reviews/*}/versions";
    for (const path of [
      "/api/v1/accounts/1/locations/2/reviews/3/versions",
      "/api/v1/accounts%2F1%2Flocations%2F2%2Freviews%2F3/versions",
      "/api/v1/accounts%2f1/locations%2F2%2Freviews/3/versions",
    ]) {
      const found = table.match("GET", path);
      assert.ok(found.kind === "found", path);
      assert.equal(found.value, versions, path);
      assert.deepEqual(found.params, { name: "accounts/1/locations/2/reviews/3" }, path);
    }
    assert.deepEqual(table.match("POST", "/api/v1/accounts%2F1%2Flocations%2F2%2Freviews%2F3/versions"), {
      kind: "method_not_allowed",
      allowed: ["GET"],
    });
    assert.equal(table.match("GET", "/api/v1/accounts%2F1%2Flocations%2F2/versions").kind, "not_found");
    // a path that fits as sent keeps its meaning: a single-segment variable gets the slash
    const job = table.match("GET", "/api/v1/jobs/a%2Fb");
    assert.deepEqual(job.kind === "found" && job.params, { job_id: "a/b" });
  });

  it("finds the same route whatever the first segment looks like: literal, escaped, a variable, with a verb", () => {
    const table = createRouteTable([
      entry("GET", "/tokens/validate/{client_id}"),
      entry("GET", "/{name}/validate/{client_id}"),
      entry("POST", "/{name}:cancel"),
      entry("POST", "/jobs:batch"),
      entry("GET", "/clients/{id}"),
    ]);
    const value = (method: string, path: string) => {
      const found = table.match(method, path);
      return found.kind === "found" ? found.value : found.kind;
    };
    assert.equal(value("GET", "/tokens/validate/c1"), "GET /tokens/validate/{client_id}");
    // literal segments compare decoded
    assert.equal(value("GET", "/%74okens/validate/c1"), "GET /tokens/validate/{client_id}");
    // a template starting with a variable takes any first segment, below the literal one
    assert.equal(value("GET", "/other/validate/c1"), "GET /{name}/validate/{client_id}");
    assert.throws(() => table.match("GET", "/%zz/validate/c1"), PathDecodeError);
    // a verb after the only segment
    assert.equal(value("POST", "/jobs:batch"), "POST /jobs:batch");
    assert.equal(value("POST", "/j1:cancel"), "POST /{name}:cancel");
    assert.deepEqual(table.match("GET", "/clients/x/extra"), { kind: "not_found" });
    assert.deepEqual(table.match("POST", "/clients/x"), { kind: "method_not_allowed", allowed: ["GET"] });
  });

  it("refuses two routes for the same method and shape", () => {
    assert.throws(() => createRouteTable([entry("GET", "/a/{x}"), entry("GET", "/a/{y}")]), /two routes/);
  });
});
