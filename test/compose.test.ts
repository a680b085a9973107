// docker-compose.yml is validated by Debian's docker-compose (offline: no engine runs here), with
// its profiles (demo, cluster) and deploy/cluster.env, and the health probe its services use is
// shown to tell a serving service from one that is not.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
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

  it("passes docker-compose config -q, with and without the demo and cluster profiles", async () => {
    await run("docker-compose", ["config", "-q"], { cwd: REPO_ROOT });
    await run("docker-compose", ["--profile", "demo", "config", "-q"], { cwd: REPO_ROOT });
    await run("docker-compose", ["--profile", "cluster", "config", "-q"], { cwd: REPO_ROOT });
    await run("docker-compose", ["--env-file", "deploy/cluster.env", "config", "-q"], { cwd: REPO_ROOT });
  });

  /** One service's block of `docker-compose config` output (1.29 prints every service, profiles and all). */
  const block = (config: string, service: string) => new RegExp(`^  ${service}:\\n((?: {4}.*\\n|\\s*\\n)*)`, "m").exec(config)?.[1] ?? "";

  it("defines postgres, nats, the three services, the emulator under the demo profile and three NATS nodes under the cluster profile, each with a health check", async () => {
    const services = (await run("docker-compose", ["config", "--services"], { cwd: REPO_ROOT })).stdout.split("\n").filter(Boolean).sort();
    assert.deepEqual(services, ["emulator", "fetcher", "gateway", "nats", "nats-1", "nats-2", "nats-3", "postgres", "token"]);
    const full = (await run("docker-compose", ["config"], { cwd: REPO_ROOT })).stdout;
    assert.match(block(full, "emulator"), /profiles:\n\s+- demo/);
    for (const node of ["nats-1", "nats-2", "nats-3"]) assert.match(block(full, node), /profiles:\n\s+- cluster/);
    assert.equal((full.match(/profiles:/g) ?? []).length, 4);
    assert.match(full, /pg_isready/);
    assert.match(full, /healthz\?js-enabled-only=true/);
    assert.match(full, /grpc:\/\/127\.0\.0\.1:8002/);
    assert.match(full, /grpc:\/\/127\.0\.0\.1:8001/);
    assert.match(full, /http:\/\/127\.0\.0\.1:8080\/ready/);
    assert.equal((full.match(/healthcheck:/g) ?? []).length, 9);
    assert.match(full, /nats-data:\/data/);
    // without the cluster env file, the services use the single server and one replica
    for (const service of ["token", "fetcher", "gateway"]) {
      assert.match(block(full, service), /NATS_REPLICAS: '1'/);
      assert.match(block(full, service), /NATS_URL: nats:\/\/nats:4222\n/);
    }
  });

  it("makes the cluster profile a three-node JetStream cluster, and deploy/cluster.env points every service at it with NATS_REPLICAS=3", async () => {
    const full = (await run("docker-compose", ["--env-file", "deploy/cluster.env", "config"], { cwd: REPO_ROOT })).stdout;
    const routes = "nats://nats-1:6222,nats://nats-2:6222,nats://nats-3:6222";
    for (const [i, node] of ["nats-1", "nats-2", "nats-3"].entries()) {
      const b = block(full, node);
      assert.match(b, new RegExp(`- -n\\n\\s+- ${node}\\n`), `${node} names itself`);
      assert.match(b, /- --cluster_name\n\s+- reviewflow\n/);
      assert.ok(b.includes(`- ${routes}\n`), `${node} routes to all three`);
      assert.match(b, /- -js\n/);
      assert.ok(b.includes(`nats-${i + 1}-data:/data`), `${node} has its own store`);
      assert.match(b, /healthcheck:/);
    }
    for (const service of ["token", "fetcher", "gateway"]) {
      assert.match(block(full, service), /NATS_REPLICAS: '3'/);
      assert.match(block(full, service), /NATS_URL: nats:\/\/nats-1:4222,nats:\/\/nats-2:4222,nats:\/\/nats-3:4222\n/);
    }
    const env = readFileSync(path.join(REPO_ROOT, "deploy/cluster.env"), "utf8");
    assert.match(env, /^COMPOSE_PROFILES=cluster$/m);
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
      await run(process.execPath, ["scripts/health-probe.mjs", target], {
        cwd: REPO_ROOT,
        env: { ...process.env, PROBE_TIMEOUT_MS: "2000" },
      });
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
