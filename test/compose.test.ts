// docker-compose.yml is validated by Debian's docker-compose (offline: no engine runs here), and
// the health probe its services use is shown to tell a serving service from one that is not.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createRpcServer, ServingStatus } from "../lib/rpc/index.js";
import { silentLogger } from "../lib/log/index.js";
import { REPO_ROOT } from "../scripts/support/child-service.js";

const run = promisify(execFile);

async function hasDockerCompose(): Promise<boolean> {
  try {
    await run("docker-compose", ["version"], { cwd: REPO_ROOT });
    return true;
  } catch {
    return false;
  }
}

describe("docker-compose.yml", () => {
  before(async function () {
    if (!(await hasDockerCompose())) {
      console.log("    docker-compose is not installed (apt-get install docker-compose; .ci/run does it): skipping the compose checks");
      this.skip();
    }
  });

  it("passes docker-compose config -q, with and without the demo profile", async () => {
    await run("docker-compose", ["config", "-q"], { cwd: REPO_ROOT });
    await run("docker-compose", ["--profile", "demo", "config", "-q"], { cwd: REPO_ROOT });
  });

  it("defines postgres, nats, the three services and, under the demo profile only, the emulator, each with a health check", async () => {
    const services = (await run("docker-compose", ["config", "--services"], { cwd: REPO_ROOT })).stdout.split("\n").filter(Boolean).sort();
    assert.deepEqual(services, ["emulator", "fetcher", "gateway", "nats", "postgres", "token"]);
    const full = (await run("docker-compose", ["config"], { cwd: REPO_ROOT })).stdout;
    // docker-compose 1.29 prints every service with its profiles: only the emulator has one
    const emulatorBlock = /^  emulator:\n((?: {4}.*\n|\s*\n)*)/m.exec(full)?.[1] ?? "";
    assert.match(emulatorBlock, /profiles:\n\s+- demo/);
    assert.equal((full.match(/profiles:/g) ?? []).length, 1);
    assert.match(full, /pg_isready/);
    assert.match(full, /healthz\?js-enabled-only=true/);
    assert.match(full, /grpc:\/\/127\.0\.0\.1:8002/);
    assert.match(full, /grpc:\/\/127\.0\.0\.1:8001/);
    assert.match(full, /http:\/\/127\.0\.0\.1:8080\/ready/);
    assert.equal((full.match(/healthcheck:/g) ?? []).length, 6);
    assert.match(full, /nats-data:\/data/);
  });
});

describe("scripts/health-probe.mjs", () => {
  const server = createRpcServer({ routes: () => undefined, services: [], logger: silentLogger });
  let port = 0;
  before(async () => {
    port = await server.listen(0);
  });
  after(() => server.close());

  const probe = async (target: string) => {
    try {
      await run(process.execPath, ["scripts/health-probe.mjs", target], { cwd: REPO_ROOT, env: { ...process.env, PROBE_TIMEOUT_MS: "2000" } });
      return { ok: true, stderr: "" };
    } catch (err) {
      return { ok: false, stderr: String((err as { stderr?: string }).stderr) };
    }
  };

  it("passes a gRPC server that reports SERVING", async () => {
    assert.deepEqual(await probe(`grpc://127.0.0.1:${port}`), { ok: true, stderr: "" });
  });

  it("fails a gRPC server that reports NOT_SERVING, and a closed port", async () => {
    server.health.set("", ServingStatus.NOT_SERVING);
    try {
      const notServing = await probe(`grpc://127.0.0.1:${port}`);
      assert.equal(notServing.ok, false);
      assert.match(notServing.stderr, /status 2/);
    } finally {
      server.health.set("", ServingStatus.SERVING);
    }
    assert.equal((await probe("grpc://127.0.0.1:1")).ok, false);
  });

  it("fails an HTTP check that does not answer 2xx", async () => {
    const res = await probe(`http://127.0.0.1:${port}/no-such-path`);
    assert.equal(res.ok, false);
    assert.match(res.stderr, /HTTP 404/);
  });
});
