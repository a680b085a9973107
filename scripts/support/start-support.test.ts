// The launcher's small parts: development secrets that survive a restart, the instructions for a
// client that still needs a person to consent, and the waits before restarting a dead service.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startChildService } from "./child-service.js";
import { loadDevSecrets } from "./dev-secrets.js";
import { formatNextSteps } from "./next-steps.js";
import { RestartTracker } from "./restart-policy.js";
import { loadConfig } from "../../lib/config/index.js";

describe("npm start's development secrets", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rf-secrets-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("makes a valid encryption key and an admin key once, keeps them private, and reuses them on the next start", () => {
    const first = loadDevSecrets(dir, {});
    assert.deepEqual(first.sources, { TOKEN_ENCRYPTION_KEY: "generated", ADMIN_API_KEY: "generated" });
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    // the real config loader accepts both
    const config = loadConfig({ TOKEN_ENCRYPTION_KEY: first.values.TOKEN_ENCRYPTION_KEY, ADMIN_API_KEY: first.values.ADMIN_API_KEY });
    assert.ok(config.secrets.encryptionKeys);
    const second = loadDevSecrets(dir, {});
    assert.deepEqual(second.values, first.values);
    assert.deepEqual(second.sources, { TOKEN_ENCRYPTION_KEY: "file", ADMIN_API_KEY: "file" });
  });

  it("lets the environment win without writing its values to the file", () => {
    const fromEnv = loadDevSecrets(dir, { ADMIN_API_KEY: "an-admin-key-from-the-environment" });
    assert.equal(fromEnv.values.ADMIN_API_KEY, "an-admin-key-from-the-environment");
    assert.equal(fromEnv.sources.ADMIN_API_KEY, "environment");
    assert.doesNotMatch(readFileSync(fromEnv.file, "utf8"), /from-the-environment/);
  });

  it("refuses a damaged secrets file instead of silently replacing the key", () => {
    const damaged = mkdtempSync(path.join(os.tmpdir(), "rf-secrets-"));
    try {
      const file = path.join(damaged, "dev-secrets.json");
      writeFileSync(file, "{not json");
      assert.throws(() => loadDevSecrets(damaged, {}), /not valid JSON: fix or delete it/);
    } finally {
      rmSync(damaged, { recursive: true, force: true });
    }
  });
});

describe("npm start's service logs", () => {
  it("are readable by their owner only (file 0600, directory 0700), even when they existed before", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rf-logs-"));
    try {
      const logDir = path.join(dir, "logs");
      mkdirSync(logDir, { mode: 0o755 });
      chmodSync(logDir, 0o755);
      const logFile = path.join(logDir, "token.log");
      writeFileSync(logFile, "an earlier run\n", { mode: 0o644 });
      chmodSync(logFile, 0o644);
      const entry = path.join(dir, "say.mjs");
      writeFileSync(entry, "console.log('hello from the child');\n");
      const child = startChildService({ name: "token", entry, env: { PATH: process.env.PATH }, logFile });
      await child.exited;
      assert.equal(statSync(logDir).mode & 0o777, 0o700);
      assert.equal(statSync(logFile).mode & 0o777, 0o600);
      assert.match(readFileSync(logFile, "utf8"), /an earlier run\nhello from the child\n/);
      const fresh = path.join(dir, "new", "logs", "gateway.log");
      await startChildService({ name: "gateway", entry, env: { PATH: process.env.PATH }, logFile: fresh }).exited;
      assert.equal(statSync(path.dirname(fresh)).mode & 0o777, 0o700);
      assert.equal(statSync(fresh).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm start's instructions", () => {
  it("print the one-time login link and the redirect URI Google must know when nobody has consented yet", () => {
    const text = formatNextSteps({
      adminKey: "rf_dev_admin_x",
      adminKeySource: "kept in .run/dev-secrets.json",
      gatewayUrl: "http://localhost:8080",
      tokenPort: 8002,
      fetcherPort: 8001,
      gatewayPort: 8080,
      logDir: ".run/logs",
      natsUrl: "nats://127.0.0.1:4222",
      natsNamespace: "",
      demo: {
        tenantId: "t",
        clientId: "c",
        googleClientId: "g",
        branchIds: [],
        connected: false,
        loginUrl: "http://localhost:8080/oauth/login/c?link=abc",
        redirectUri: "http://localhost:8080/auth/callback",
      },
    });
    assert.match(text, /NOT connected yet/);
    assert.match(text, /^ {4}http:\/\/localhost:8080\/oauth\/login\/c\?link=abc$/m);
    assert.match(text, /authorized redirect URI/);
    // no namespace and the default NATS: the tail command is the plain one
    assert.match(text, /^ {4}npm run reviews:tail -- --from-start$/m);
  });
});

describe("npm start's restart policy", () => {
  it("doubles the wait for restarts in a row up to the cap, starts over after a long run, and gives up after the limit", () => {
    const tracker = new RestartTracker({ firstDelayMs: 1_000, maxDelayMs: 4_000, healthyAfterMs: 60_000, maxInARow: 4 });
    assert.deepEqual(
      [1, 2, 3].map(() => tracker.next(500)?.delayMs),
      [1_000, 2_000, 4_000],
    );
    assert.deepEqual(tracker.next(500), { delayMs: 4_000, attempt: 4 });
    assert.equal(tracker.next(500), undefined);
    assert.deepEqual(tracker.next(120_000), { delayMs: 1_000, attempt: 1 });
  });
});
