import assert from "node:assert/strict";
import http2 from "node:http2";
import zlib from "node:zlib";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { DescMethod } from "@bufbuild/protobuf";
import { ReviewFetcher } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { TokenService } from "../gen/reviewflow/token/v1/token_service_pb.js";
import { DEMO_GOOGLE_CLIENT, useGatewayStack } from "./helpers/gateway-stack.js";
import { TEST_ADMIN_KEY, TEST_ENCRYPTION_KEY } from "./helpers/index.js";
import {
  chance,
  encodeForUrl,
  hostileString,
  pick,
  randomBytes,
  randomJson,
  randomJsonFor,
  randomMessage,
  seededRng,
  type Rng,
} from "./helpers/fuzz-input.js";
import { envelope, grpcWebTrailer } from "./helpers/wire-clients.js";

/**
 * Malformed input at every REST route (from the gateway's OpenAPI document) and every RPC (from
 * the service descriptors in gen/) over Connect, gRPC and gRPC-Web on the gateway, in front of
 * the real services. Bounded (a fixed number of cases per route and per RPC and protocol),
 * seeded (FUZZ_SEED reproduces a run; FUZZ_ROUNDS scales it), loopback only.
 *
 * Every answer must be a 4xx or one of the documented 503 (a dependency is unavailable) and 504
 * (a deadline passed) — for gRPC, any status but UNKNOWN, INTERNAL, UNIMPLEMENTED and DATA_LOSS —
 * and no body or grpc-message may carry a stack trace, a database error or a secret.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 14_2026);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 4);
const CONCURRENCY = 8;
/** The 5xx answers the README documents: a dependency unavailable, a deadline passed. */
const DOCUMENTED_5XX = new Set([503, 504]);
/** gRPC statuses that say "the server broke" rather than "the request was refused". */
const SERVER_FAULTS = new Set(["2", "12", "13", "15"]);
const LEAKS: readonly RegExp[] = [
  /\n\s+at [^\n]+:\d+:\d+/, // a stack frame
  /\bat [\w.<>$]+ \([^)]*:\d+:\d+\)/,
  /node_modules|node:internal/,
  /\.ts:\d+:\d+/,
  /QueryFailedError|violates .* constraint|invalid input syntax|SQLSTATE|typeorm/i,
  /postgres(ql)?:\/\//i,
];

interface Case {
  /** What a person reads when it fails: protocol, method, path, what was odd. */
  label: string;
  run(): Promise<Answer>;
}
interface Answer {
  status: number;
  grpcStatus?: string;
  text: string;
}

describe("fuzz: malformed input at every REST route and every RPC (seeded, loopback)", function () {
  this.timeout(120_000);
  const stack = useGatewayStack();
  const ctx = { operatorKey: "", clientSecret: "fuzz-client-secret-0123456789", known: [] as string[] };

  before(async function () {
    this.timeout(60_000);
    const rest = async (method: string, path: string, body: unknown, key = TEST_ADMIN_KEY) => {
      const res = await fetch(`${stack.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
      return (await res.json()) as Record<string, any>;
    };
    const tenant = (await rest("POST", "/tenants", { name: "fuzz" })).tenant.id as string;
    ctx.operatorKey = (await rest("POST", "/api-keys", { tenant_id: tenant, role: "ROLE_OPERATOR", name: "fuzz" })).key;
    const client = (
      await rest(
        "POST",
        "/clients",
        {
          name: "fuzz",
          google_client_id: DEMO_GOOGLE_CLIENT.id,
          client_secret: ctx.clientSecret,
          redirect_uri: `${stack.base}/auth/callback`,
        },
        ctx.operatorKey,
      )
    ).client;
    const branch = (
      await rest(
        "POST",
        "/branches",
        { client_id: client.id, branch_id: "fuzz-branch", name: "b", account_id: "1", location_id: "2", manager_email: "m@example.com" },
        ctx.operatorKey,
      )
    ).branch;
    ctx.known = [client.id, branch.id, "fuzz-branch", tenant];
  });

  const secrets = () => [TEST_ADMIN_KEY, ctx.operatorKey, ctx.clientSecret, TEST_ENCRYPTION_KEY, DEMO_GOOGLE_CLIENT.secret];
  const authorization = (rng: Rng): Record<string, string> => {
    const roll = rng();
    if (roll < 0.4) return { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    if (roll < 0.7) return { authorization: `Bearer ${ctx.operatorKey}` };
    if (roll < 0.85) return {};
    return { authorization: `Bearer ${encodeForUrl(hostileString(rng)).slice(0, 200)}` };
  };

  /** What is wrong with an answer, or undefined. */
  const fault = (answer: Answer): string | undefined => {
    if (answer.status >= 500 && !DOCUMENTED_5XX.has(answer.status)) return `HTTP ${answer.status}`;
    if (answer.grpcStatus !== undefined && SERVER_FAULTS.has(answer.grpcStatus)) return `grpc-status ${answer.grpcStatus}`;
    const leak = LEAKS.find((re) => re.test(answer.text));
    if (leak) return `leaks ${leak}`;
    if (secrets().some((s) => s && answer.text.includes(s))) return "carries a secret";
    return undefined;
  };

  // FUZZ_DEBUG=1 prints how the answers spread over protocols and statuses (to see the cases reach past auth and validation)
  const tally = new Map<string, number>();
  const count = (c: Case, answer: Answer) => {
    const key = `${c.label.split(" ")[0]} ${answer.status}${answer.grpcStatus === undefined ? "" : ` grpc-status ${answer.grpcStatus}`}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  };
  after(() => {
    if (process.env.FUZZ_DEBUG)
      console.log(
        [...tally]
          .sort()
          .map(([key, n]) => `      ${key}: ${n}`)
          .join("\n"),
      );
  });
  async function runAll(cases: Case[]): Promise<string[]> {
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const c = cases[next++]!;
          let problem: string | undefined;
          let answer: Answer | undefined;
          try {
            answer = await c.run();
            count(c, answer);
            problem = fault(answer);
          } catch (err) {
            problem = `no answer: ${(err as Error).message}`;
          }
          if (problem) failures.push(`${problem} ← ${c.label}${answer ? ` → ${answer.text.slice(0, 300).replace(/\s+/g, " ")}` : ""}`);
        }
      }),
    );
    return failures;
  }

  /** The failures, and what the services logged as errors (the cause of an INTERNAL is logged, never answered). */
  const report = (failures: string[], total: number) => {
    const errors = stack.logs
      .lines()
      .filter((l) => l.level === "error")
      .slice(0, 10)
      .map((l) => JSON.stringify(l).slice(0, 500));
    return `${failures.length} of ${total} cases failed (FUZZ_SEED=${SEED} reproduces them):\n  ${failures.slice(0, 25).join("\n  ")}\nerrors logged:\n  ${errors.join("\n  ")}`;
  };

  it("answers every REST route of the OpenAPI document without a 5xx, a stack trace or a secret", async () => {
    const rng = seededRng(SEED);
    const doc = stack.gateway.openApi as unknown as OpenApiDocument;
    const cases: Case[] = [];
    for (const [template, operations] of Object.entries(doc.paths)) {
      for (const [verb, operation] of Object.entries(operations)) {
        for (let i = 0; i < ROUNDS; i++) cases.push(restCase(rng, doc, verb.toUpperCase(), template, operation));
      }
    }
    assert.ok(cases.length >= 40 * ROUNDS, `only ${cases.length} cases: did the route list shrink?`);
    const failures = await runAll(cases);
    assert.equal(failures.length, 0, report(failures, cases.length));
  });

  it("answers every RPC over Connect, gRPC and gRPC-Web on the gateway without a server fault, a stack trace or a secret", async () => {
    const rng = seededRng(SEED + 1);
    const session = http2.connect(stack.base);
    session.on("error", () => undefined);
    try {
      const cases: Case[] = [];
      for (const service of [TokenService, ReviewFetcher]) {
        for (const method of service.methods) {
          for (let i = 0; i < ROUNDS; i++) {
            cases.push(connectCase(rng, method), grpcCase(rng, method, session), grpcWebCase(rng, method));
          }
        }
      }
      const failures = await runAll(cases);
      assert.equal(failures.length, 0, report(failures, cases.length));
    } finally {
      session.close();
    }
  });

  // ----- REST -----

  function restCase(rng: Rng, doc: OpenApiDocument, verb: string, template: string, operation: OpenApiOperation): Case {
    const params = operation.parameters ?? [];
    const path = template.replace(/\{([^}]+)\}/g, () => encodePathValue(rng, hostileString(rng, ctx.known)));
    const query = new URLSearchParams();
    for (const p of params.filter((p) => p.in === "query")) {
      if (chance(rng, 0.6)) query.append(p.name, hostileString(rng, ctx.known));
      if (chance(rng, 0.1)) query.append(p.name, hostileString(rng));
    }
    if (chance(rng, 0.15)) query.append(hostileString(rng).slice(0, 30) || "x", hostileString(rng));
    const headers: Record<string, string> = { ...authorization(rng), accept: pick(rng, ["application/json", "*/*", "text/html"]) };
    let body: string | undefined;
    if (operation.requestBody || (verb !== "GET" && chance(rng, 0.2))) {
      headers["content-type"] = pick(rng, [
        "application/json",
        "application/json",
        "application/json",
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
      ]);
      const roll = rng();
      body =
        roll < 0.65
          ? JSON.stringify(randomJsonFor(rng, undefined, ctx.known, bodyFields(doc, operation)))
          : roll < 0.8
            ? JSON.stringify(randomJson(rng, 3, ctx.known))
            : pick(rng, ["{", "[]", "nul", '{"a":', "\u0000", "{}".repeat(1000), ""]);
    }
    const url = `${stack.base}${path}${query.size ? `?${query.toString()}` : ""}`;
    return {
      label: `REST ${verb} ${template} (${url.slice(stack.base.length, stack.base.length + 160)})`,
      run: async () => {
        const res = await fetch(url, { method: verb, headers, body, redirect: "manual", signal: AbortSignal.timeout(15_000) });
        return { status: res.status, text: await res.text() };
      },
    };
  }

  // ----- RPCs -----

  /** Length-prefixed body of a random message, random bytes, a truncated message, or a compressed flag with no (or corrupt) encoding. */
  function envelopedBody(rng: Rng, method: DescMethod, json: boolean): { body: Buffer; headers: Record<string, string>; what: string } {
    const roll = rng();
    const message = randomMessage(rng, method.input, ctx.known);
    const payload = json ? Buffer.from(JSON.stringify(message.json)) : Buffer.from(message.binary);
    if (roll < 0.5) return { body: envelope(0, payload), headers: {}, what: "random message" };
    if (roll < 0.7) return { body: envelope(0, randomBytes(rng, 64)), headers: {}, what: "random bytes" };
    if (roll < 0.8)
      return {
        body: envelope(0, payload).subarray(0, Math.max(1, Math.floor(payload.length / 2))),
        headers: {},
        what: "truncated envelope",
      };
    if (roll < 0.9) return { body: envelope(1, payload), headers: {}, what: "compressed flag, no encoding" };
    return { body: envelope(1, zlib.gzipSync(payload).subarray(0, 12)), headers: { "grpc-encoding": "gzip" }, what: "corrupt gzip" };
  }

  const deadlineHeader = (rng: Rng, name: "connect-timeout-ms" | "grpc-timeout"): Record<string, string> => {
    const values =
      name === "grpc-timeout" ? ["5S", "2500000S", "99999999H", "1n", "x", "-1S"] : ["5000", "3000000000", "9999999999", "0", "x", "-1"];
    // streams get a bounded deadline unless the case picks an odd one
    return chance(rng, 0.3) ? { [name]: pick(rng, values) } : { [name]: name === "grpc-timeout" ? "5S" : "5000" };
  };

  function connectCase(rng: Rng, method: DescMethod): Case {
    const path = `/${method.parent.typeName}/${method.name}`;
    const headers: Record<string, string> = { ...authorization(rng), ...deadlineHeader(rng, "connect-timeout-ms") };
    const json = chance(rng, 0.5);
    let url = `${stack.base}${path}`;
    let init: RequestInit;
    let what: string;
    if (method.methodKind === "server_streaming") {
      const enveloped = envelopedBody(rng, method, json);
      init = {
        method: "POST",
        headers: {
          ...headers,
          "content-type": json ? "application/connect+json" : "application/connect+proto",
          ...renameEncoding(enveloped.headers, "connect-content-encoding"),
        },
        body: enveloped.body,
      };
      what = enveloped.what;
    } else if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS && chance(rng, 0.3)) {
      const message = chance(rng, 0.5)
        ? Buffer.from(randomMessage(rng, method.input, ctx.known).binary).toString("base64url")
        : encodeForUrl(hostileString(rng));
      url += `?connect=v1&encoding=${pick(rng, ["proto", "json"])}&base64=1&message=${message}`;
      init = { method: "GET", headers };
      what = "GET";
    } else {
      const roll = rng();
      const message = randomMessage(rng, method.input, ctx.known);
      const body =
        roll < 0.5
          ? json
            ? JSON.stringify(message.json)
            : Buffer.from(message.binary)
          : roll < 0.75
            ? json
              ? JSON.stringify(randomJsonFor(rng, method.input, ctx.known))
              : Buffer.from(randomBytes(rng, 64))
            : roll < 0.9
              ? json
                ? pick(rng, ["{", "[1,2]", '"x"', "null"])
                : Buffer.from(message.binary).subarray(0, Math.floor(message.binary.length / 2))
              : zlib.gzipSync(Buffer.from("x")).subarray(0, 10);
      const encoding: Record<string, string> = roll >= 0.9 ? { "content-encoding": "gzip" } : {};
      init = {
        method: "POST",
        headers: { ...headers, ...encoding, "content-type": json ? "application/json" : "application/proto" },
        body,
      };
      what = roll < 0.5 ? "random message" : roll < 0.75 ? "random body" : roll < 0.9 ? "truncated body" : "corrupt gzip";
    }
    return {
      label: `Connect ${path} (${json ? "json" : "proto"}, ${what}, ${JSON.stringify(pickDeadline(headers))})`,
      run: async () => {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
        const bytes = Buffer.from(await res.arrayBuffer());
        return { status: res.status, text: bytes.toString("latin1") };
      },
    };
  }

  function grpcCase(rng: Rng, method: DescMethod, session: http2.ClientHttp2Session): Case {
    const path = `/${method.parent.typeName}/${method.name}`;
    const json = chance(rng, 0.2);
    const enveloped = envelopedBody(rng, method, json);
    const headers = { ...authorization(rng), ...deadlineHeader(rng, "grpc-timeout"), ...enveloped.headers };
    return {
      label: `gRPC ${path} (${json ? "json" : "proto"}, ${enveloped.what}, ${JSON.stringify(pickDeadline(headers))})`,
      run: () =>
        new Promise<Answer>((resolve, reject) => {
          const stream = session.request({
            ":method": "POST",
            ":path": path,
            "content-type": json ? "application/grpc+json" : "application/grpc",
            te: "trailers",
            ...headers,
          });
          const meta: Record<string, unknown> = {};
          const chunks: Buffer[] = [];
          stream.on("response", (h) => Object.assign(meta, h));
          stream.on("trailers", (t) => Object.assign(meta, t));
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("error", reject);
          stream.setTimeout(15_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
          stream.on("close", () => {
            const grpcStatus = meta["grpc-status"] === undefined ? undefined : String(meta["grpc-status"]);
            resolve({
              status: Number(meta[":status"] ?? 0),
              grpcStatus,
              text: `${decodeURIComponent(String(meta["grpc-message"] ?? ""))} ${Buffer.concat(chunks).toString("latin1")}`,
            });
          });
          stream.end(enveloped.body);
        }),
    };
  }

  function grpcWebCase(rng: Rng, method: DescMethod): Case {
    const path = `/${method.parent.typeName}/${method.name}`;
    const json = chance(rng, 0.2);
    const enveloped = envelopedBody(rng, method, json);
    const headers = {
      ...authorization(rng),
      ...deadlineHeader(rng, "grpc-timeout"),
      ...enveloped.headers,
      "content-type": json ? "application/grpc-web+json" : "application/grpc-web+proto",
    };
    return {
      label: `gRPC-Web ${path} (${json ? "json" : "proto"}, ${enveloped.what}, ${JSON.stringify(pickDeadline(headers))})`,
      run: async () => {
        const res = await fetch(`${stack.base}${path}`, {
          method: "POST",
          headers,
          body: enveloped.body,
          signal: AbortSignal.timeout(15_000),
        });
        const body = Buffer.from(await res.arrayBuffer());
        const trailer = grpcWebTrailer(body);
        const grpcStatus = res.headers.get("grpc-status") ?? (trailer.status || undefined);
        return {
          status: res.status,
          grpcStatus,
          text: `${decodeURIComponent(res.headers.get("grpc-message") ?? "")} ${trailer.message} ${body.toString("latin1")}`,
        };
      },
    };
  }
});

interface OpenApiParameter {
  name: string;
  in: string;
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: { $ref?: string; properties?: Record<string, unknown> } }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
}

/** The property names of an operation's JSON body schema (following one $ref). */
function bodyFields(doc: OpenApiDocument, operation: OpenApiOperation): string[] {
  const schema = operation.requestBody?.content?.["application/json"]?.schema;
  const resolved = schema?.$ref ? doc.components?.schemas?.[schema.$ref.split("/").at(-1)!] : schema;
  return Object.keys(resolved?.properties ?? {});
}

/** A path value percent-encoded as a client would, or raw in ways a client should not (bad escapes, extra slashes). */
function encodePathValue(rng: Rng, value: string): string {
  if (chance(rng, 0.8)) return encodeForUrl(value);
  return pick(rng, ["%zz", "%", "%00", "%2F%2F", "a/b/c", "%E0%A4%A", "%C0%AF", ";", "x:verb"]);
}

function renameEncoding(headers: Record<string, string>, name: string): Record<string, string> {
  return headers["grpc-encoding"] ? { [name]: headers["grpc-encoding"] } : {};
}

function pickDeadline(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k === "connect-timeout-ms" || k === "grpc-timeout"));
}
