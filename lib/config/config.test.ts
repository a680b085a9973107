import assert from "node:assert/strict";
import { ConfigError, deploymentNamespace, loadConfig } from "./index.js";

const KEY = Buffer.alloc(32, 1).toString("base64");

describe("loadConfig", () => {
  it("applies DESIGN.md's defaults", () => {
    const config = loadConfig({});
    assert.equal(config.postgres.url, "postgres://postgres@127.0.0.1:5432/reviewflow");
    assert.equal(config.nats.url, "nats://127.0.0.1:4222");
    assert.equal(config.google.qpm, 300);
    assert.equal(config.token.refreshWindowSeconds, 300);
    assert.deepEqual([config.token.port, config.fetcher.port, config.gateway.port, config.emulator.port], [8002, 8001, 8080, 8090]);
    assert.equal(config.google.endpoints.tokenUrl, "https://oauth2.googleapis.com/token");
    assert.equal(config.secrets.encryptionKeys, undefined);
    assert.ok(Object.isFrozen(config));
    for (const section of Object.values(config)) assert.ok(Object.isFrozen(section), "every section is frozen too");
  });

  it("bounds each tenant's active jobs at a quarter of the global bound unless told otherwise", () => {
    assert.deepEqual([loadConfig({}).fetcher.maxActiveJobs, loadConfig({}).fetcher.maxActiveJobsPerTenant], [100, 25]);
    assert.equal(loadConfig({ FETCH_MAX_ACTIVE_JOBS: "2" }).fetcher.maxActiveJobsPerTenant, 1);
    assert.equal(loadConfig({ FETCH_MAX_ACTIVE_JOBS: "10", FETCH_MAX_ACTIVE_JOBS_PER_TENANT: "10" }).fetcher.maxActiveJobsPerTenant, 10);
  });

  it("follows Google's latency and the quota with FETCH_CONCURRENCY=auto (the default) up to FETCH_CONCURRENCY_MAX, or a fixed number", () => {
    assert.deepEqual([loadConfig({}).fetcher.concurrency, loadConfig({}).fetcher.concurrencyMax], ["auto", 64]);
    assert.equal(loadConfig({ FETCH_CONCURRENCY: "auto", FETCH_CONCURRENCY_MAX: "128" }).fetcher.concurrencyMax, 128);
    assert.equal(loadConfig({ FETCH_CONCURRENCY: "12" }).fetcher.concurrency, 12);
  });

  it("gives a fetcher 14 Postgres connections whatever its concurrency, unless FETCH_DATABASE_CONNECTIONS says otherwise", () => {
    assert.equal(loadConfig({}).fetcher.databaseConnections, 14);
    assert.equal(loadConfig({ FETCH_CONCURRENCY: "64" }).fetcher.databaseConnections, 14);
    assert.equal(loadConfig({ FETCH_DATABASE_CONNECTIONS: "40" }).fetcher.databaseConnections, 40);
    assert.throws(() => loadConfig({ FETCH_DATABASE_CONNECTIONS: "1" }), /FETCH_DATABASE_CONNECTIONS: must be between 2 and 500, got 1/);
  });

  it("reads NATS_URL as a comma-separated list of servers, and NATS_REPLICAS (1 by default)", () => {
    assert.deepEqual(loadConfig({}).nats.servers, ["nats://127.0.0.1:4222"]);
    assert.equal(loadConfig({}).nats.replicas, 1);
    const cluster = loadConfig({ NATS_URL: "nats://n1:4222, nats://n2:4222,nats://n3:4222", NATS_REPLICAS: "3" });
    assert.deepEqual(cluster.nats.servers, ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]);
    assert.equal(cluster.nats.url, "nats://n1:4222,nats://n2:4222,nats://n3:4222");
    assert.equal(cluster.nats.replicas, 3);
  });

  it("derives the work streams' namespace from the database unless NATS_NAMESPACE is set (set but empty: the unprefixed names); the public streams keep DESIGN's names", () => {
    assert.equal(loadConfig({}).nats.namespace, "");
    const a = loadConfig({ DATABASE_URL: "postgres://u@db.example:5432/app_a" }).nats.workNamespace;
    const b = loadConfig({ DATABASE_URL: "postgres://u@db.example:5432/app_b" }).nats.workNamespace;
    assert.match(a, /^rf_[0-9a-f]{8}$/);
    assert.notEqual(a, b);
    // what identifies the database decides, not who connects or how loopback is spelt
    assert.equal(loadConfig({ DATABASE_URL: "postgresql://other:pw@DB.example/app_a" }).nats.workNamespace, a);
    assert.equal(deploymentNamespace("postgres://x@127.0.0.1:5432/reviewflow"), deploymentNamespace("postgres://y@localhost/reviewflow"));
    assert.notEqual(
      deploymentNamespace("postgres://x@127.0.0.1:5433/reviewflow"),
      deploymentNamespace("postgres://x@127.0.0.1:5432/reviewflow"),
    );
    assert.equal(loadConfig({}).nats.workNamespace, deploymentNamespace("postgres://postgres@127.0.0.1:5432/reviewflow"));
    for (const key of ["namespace", "workNamespace"] as const) {
      assert.equal(loadConfig({ NATS_NAMESPACE: "prod-eu" }).nats[key], "prod-eu");
      assert.equal(loadConfig({ NATS_NAMESPACE: "" }).nats[key], "");
    }
  });

  it("points every Google endpoint at one base URL (the emulator)", () => {
    const config = loadConfig({ GOOGLE_OAUTH_URL: "http://127.0.0.1:8090/", GOOGLE_API_URL: "http://127.0.0.1:8090" });
    assert.equal(config.google.endpoints.authUrl, "http://127.0.0.1:8090/o/oauth2/v2/auth");
    assert.equal(config.google.endpoints.revokeUrl, "http://127.0.0.1:8090/revoke");
    assert.equal(config.google.endpoints.myBusinessUrl, "http://127.0.0.1:8090/");
    assert.equal(config.google.endpoints.notificationsUrl, "http://127.0.0.1:8090/");
    assert.equal(loadConfig({}).google.endpoints.notificationsUrl, "https://mybusinessnotifications.googleapis.com/");
  });

  it("reads the review notification settings: everything off by default, Google's JWKS", () => {
    assert.deepEqual(
      { ...loadConfig({}).notifications },
      {
        topic: undefined,
        subscription: undefined,
        emulatorHost: undefined,
        pushAudience: undefined,
        pushServiceAccount: undefined,
        jwksUrl: "https://www.googleapis.com/oauth2/v3/certs",
      },
    );
    const config = loadConfig({
      GOOGLE_PUBSUB_TOPIC: "projects/my-project/topics/reviews",
      PUBSUB_SUBSCRIPTION: "projects/my-project/subscriptions/reviews-pull",
      PUBSUB_EMULATOR_HOST: "127.0.0.1:8085",
      PUBSUB_PUSH_AUDIENCE: "https://rf.example/google/pubsub/push",
      PUBSUB_PUSH_SERVICE_ACCOUNT: "push@my-project.iam.gserviceaccount.com",
      GOOGLE_JWKS_URL: "http://127.0.0.1:8090/oauth2/v3/certs",
    });
    assert.equal(config.notifications.topic, "projects/my-project/topics/reviews");
    assert.equal(config.notifications.pushServiceAccount, "push@my-project.iam.gserviceaccount.com");
    assert.equal(config.notifications.jwksUrl, "http://127.0.0.1:8090/oauth2/v3/certs");
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ["a non-numeric port", { TOKEN_PORT: "eighty" }, /^TOKEN_PORT: must be a whole number/],
    ["a port out of range", { GATEWAY_PORT: "70000" }, /^GATEWAY_PORT: must be between 0 and 65535/],
    ["a zero quota", { GOOGLE_QPM: "0" }, /^GOOGLE_QPM: must be between 1/],
    ["a malformed database URL", { DATABASE_URL: "not a url" }, /^DATABASE_URL: is not a valid URL/],
    ["a database URL of another kind", { DATABASE_URL: "mysql://x@h/db" }, /^DATABASE_URL: must use postgres:/],
    ["an unknown log level", { LOG_LEVEL: "loud" }, /^LOG_LEVEL: must be one of/],
    [
      "a short key",
      { TOKEN_ENCRYPTION_KEY: Buffer.alloc(16).toString("base64") },
      /^TOKEN_ENCRYPTION_KEY: key #1 must be base64 of exactly 32 bytes/,
    ],
    ["a short admin key", { ADMIN_API_KEY: "short" }, /^ADMIN_API_KEY: must be at least 16/],
    ["a NATS server list with a bad entry", { NATS_URL: "nats://a:4222,http://b:4222" }, /^NATS_URL: must use nats: or tls:, got http:/],
    ["an empty NATS server list", { NATS_URL: " , " }, /^NATS_URL: lists no server/],
    ["replicas that are not a number", { NATS_REPLICAS: "three" }, /^NATS_REPLICAS: must be a whole number/],
    ["zero replicas", { NATS_REPLICAS: "0" }, /^NATS_REPLICAS: must be between 1 and 5/],
    ["a NATS namespace with a dot", { NATS_NAMESPACE: "a.b" }, /^NATS_NAMESPACE: must contain letters, digits, _ and - only/],
    [
      "a topic that is not a topic name",
      { GOOGLE_PUBSUB_TOPIC: "reviews" },
      /^GOOGLE_PUBSUB_TOPIC: must look like projects\/\{project\}\/topics\/\{topic\}/,
    ],
    [
      "a subscription that is not a subscription name",
      { PUBSUB_SUBSCRIPTION: "projects/my-project/topics/reviews" },
      /^PUBSUB_SUBSCRIPTION: must look like/,
    ],
    ["a Pub/Sub emulator host without a port", { PUBSUB_EMULATOR_HOST: "localhost" }, /^PUBSUB_EMULATOR_HOST: must be host:port/],
    [
      "a push audience without the service account",
      { PUBSUB_PUSH_AUDIENCE: "https://rf.example/push" },
      /^PUBSUB_PUSH_SERVICE_ACCOUNT: is required when PUBSUB_PUSH_AUDIENCE is set/,
    ],
    [
      "a push service account without the audience",
      { PUBSUB_PUSH_SERVICE_ACCOUNT: "a@b.iam.gserviceaccount.com" },
      /^PUBSUB_PUSH_AUDIENCE: is required/,
    ],
    [
      "a push service account that is not an email",
      { PUBSUB_PUSH_AUDIENCE: "https://rf.example/push", PUBSUB_PUSH_SERVICE_ACCOUNT: "someone" },
      /^PUBSUB_PUSH_SERVICE_ACCOUNT: must be a service account email/,
    ],
    ["a JWKS URL that is not http(s)", { GOOGLE_JWKS_URL: "file:///etc/keys" }, /^GOOGLE_JWKS_URL: must use http: or https:/],
    [
      "a concurrency that is neither auto nor a number",
      { FETCH_CONCURRENCY: "lots" },
      /^FETCH_CONCURRENCY: must be "auto" or a whole number/,
    ],
    ["a zero concurrency", { FETCH_CONCURRENCY: "0" }, /^FETCH_CONCURRENCY: must be between 1 and 256/],
    [
      "a per-tenant bound above the global one",
      { FETCH_MAX_ACTIVE_JOBS: "10", FETCH_MAX_ACTIVE_JOBS_PER_TENANT: "11" },
      /^FETCH_MAX_ACTIVE_JOBS_PER_TENANT: must not exceed FETCH_MAX_ACTIVE_JOBS \(10\)/,
    ],
  ];
  for (const [what, env, message] of bad) {
    it(`stops on ${what}, naming the variable`, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  it("reads the connection timeouts of every port, the request timeout no shorter than the headers one", () => {
    assert.deepEqual(loadConfig({}).http.timeouts, { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, idleTimeoutMs: 65_000 });
    const set = loadConfig({ HTTP_HEADERS_TIMEOUT_MS: "2000", HTTP_REQUEST_TIMEOUT_MS: "2000", HTTP_IDLE_TIMEOUT_MS: "5000" });
    assert.deepEqual(set.http.timeouts, { headersTimeoutMs: 2_000, requestTimeoutMs: 2_000, idleTimeoutMs: 5_000 });
    const refused = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    refused({ HTTP_REQUEST_TIMEOUT_MS: "5000" }, /^HTTP_REQUEST_TIMEOUT_MS: must be at least HTTP_HEADERS_TIMEOUT_MS \(10000\), got 5000/);
    refused({ HTTP_IDLE_TIMEOUT_MS: "0" }, /^HTTP_IDLE_TIMEOUT_MS: must be between 100/);
    refused({ HTTP_HEADERS_TIMEOUT_MS: "soon" }, /^HTTP_HEADERS_TIMEOUT_MS: must be a whole number/);
  });

  it("never puts a secret's value in its error", () => {
    const secretish = "c2VjcmV0LXZhbHVlLXRoYXQtaXMtbm90LTMyLWJ5dGVz";
    try {
      loadConfig({ TOKEN_ENCRYPTION_KEY: secretish });
      assert.fail("expected a ConfigError");
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.ok(!err.message.includes(secretish));
    }
    try {
      loadConfig({ DATABASE_URL: "postgres://user:hunter2@host:port/db" });
      assert.fail("expected a ConfigError");
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.ok(!err.message.includes("hunter2"));
    }
  });

  it("reads a keyring for rotation: the first key encrypts, all decrypt", () => {
    const old = Buffer.alloc(32, 2).toString("base64");
    const config = loadConfig({ TOKEN_ENCRYPTION_KEY: `new:${KEY},old:${old}` });
    assert.equal(config.secrets.encryptionKeys?.active.id, "new");
    assert.deepEqual([...config.secrets.encryptionKeys!.byId.keys()], ["new", "old"]);
  });
});
