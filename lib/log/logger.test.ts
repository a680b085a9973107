import assert from "node:assert/strict";
import { captureLogs } from "../../test/helpers/logs.js";
import { registerSecret } from "./index.js";

const ACCESS = "ya29.a0AfB_byC-secret-access-token";
const REFRESH = "1//0gSecretRefreshToken-abc";
const API_KEY = "rfk_0123456789abcdef0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

describe("logger redaction", () => {
  it("keeps tokens out of messages, fields, errors and headers", () => {
    const { logger, text } = captureLogs();
    logger.info(`refreshing with ${REFRESH} got ${ACCESS}`);
    logger.info("call", { token: "opaque-value-1", client_secret: "opaque-value-2", nested: { refresh_token: "opaque-3", ok: "visible" } });
    logger.error("failed", { err: new Error(`request with Authorization: Bearer ${ACCESS} failed`) });
    logger.warn("headers", { headers: new Headers({ authorization: `Bearer ${API_KEY}`, "x-request-id": "r-1" }) });
    logger.info("url", { url: `https://x/token?access_token=${ACCESS}&refresh_token=opaque-4&page=2` });
    logger.info("body", { body: JSON.stringify({ access_token: "opaque-5", expires_in: 3599 }) });
    const out = text();
    for (const secret of [ACCESS, REFRESH, API_KEY, "opaque-value-1", "opaque-value-2", "opaque-3", "opaque-4", "opaque-5"]) {
      assert.ok(!out.includes(secret), `leaked ${secret}`);
    }
    assert.ok(out.includes("visible") && out.includes("r-1") && out.includes("page=2") && out.includes("3599"), "kept the harmless parts");
  });

  it("redacts exact values registered as secrets", () => {
    const { logger, text } = captureLogs();
    registerSecret("bootstrap-admin-key-value");
    logger.info("config", { note: "admin key is bootstrap-admin-key-value" });
    assert.ok(!text().includes("bootstrap-admin-key-value"));
  });

  it("writes one JSON object per line with bindings", () => {
    const { logger, lines } = captureLogs("info");
    logger.child({ service: "token", job_id: "j1" }).info("hello", { n: 1 });
    logger.debug("below the level");
    const [line] = lines();
    assert.equal(lines().length, 1);
    assert.deepEqual([line.level, line.msg, line.service, line.job_id, line.n], ["info", "hello", "token", "j1", 1]);
  });
});

describe("logger on stdout", () => {
  it("writes lines in batches yet loses none when the process exits right after logging", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    // 2,000 lines (past the flush size), then an immediate exit: every line must reach stdout
    const script = `import { createLogger } from "./lib/log/index.js";
      const log = createLogger();
      for (let i = 0; i < 2000; i++) log.info("line", { i });
      process.exit(3);`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: process.cwd(),
    }).catch((err: { stdout: string; code: number }) => {
      assert.equal(err.code, 3);
      return err;
    });
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { i: number });
    assert.deepEqual(
      lines.map((l) => l.i),
      Array.from({ length: 2000 }, (_, i) => i),
    );
  });
});
