// `npm start` as a newcomer runs it: on its own ports, database and NATS namespace, until it
// prints its instructions; then the printed commands are run as printed, the subscriber reads
// the demo job's reviews, and Ctrl-C (SIGINT) stops everything.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { TokenService } from "../gen/reviewflow/token/v1/token_service_pb.js";
import { dropDatabase } from "../lib/db/index.js";
import { connectNats, deleteStreams } from "../lib/nats/index.js";
import { createServiceClient } from "../lib/rpc/service-client.js";
import { REPO_ROOT } from "../scripts/support/child-service.js";
import { seedDemo } from "../scripts/support/demo-seed.js";
import { startGoogleEmulator } from "../emulator/index.js";
import { natsServerBinary } from "../bench/harness/nats-server.js";
import { checkNats, checkPostgres, diagnosePostgres, formatProblem } from "../scripts/support/prerequisites.js";
import { freePorts, isPortOpen } from "../scripts/support/ports.js";
import { TEST_NATS_URL, uniqueDatabaseUrl, uniqueNamespace } from "./helpers/index.js";

const run = promisify(execFile);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The indented lines under a heading of the printed instructions. */
function commandsUnder(output: string, heading: string): string[] {
  const lines = output.split("\n");
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `no "${heading}" section in:\n${output}`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("    ")) break;
    out.push(line.trim());
  }
  return out;
}

async function bash(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run("bash", ["-c", `set -euo pipefail\n${script}`], { cwd: REPO_ROOT, env, timeout: 60_000 });
  return stdout;
}

/** Runs `npm start` until it has printed its instructions. */
async function startUntilReady(
  env: NodeJS.ProcessEnv,
  onOutput?: (chunk: string) => void,
  { viaNpm = false }: { viaNpm?: boolean } = {},
): Promise<{ child: ChildProcess; exited: Promise<number | null>; output: () => string }> {
  let output = "";
  // through npm itself when asked: npm, its `sh -c`, then the launcher
  const [command, args] = viaNpm ? ["npm", ["start"]] : [process.execPath, ["--import", "tsx", "scripts/start.ts"]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      onOutput?.(chunk.toString());
    });
  }
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = setInterval(() => {
        if (output.includes("Watch review events")) {
          clearInterval(check);
          // the whole block is printed in one write, but give the pipe a moment to flush it
          setTimeout(() => resolve(true), 100);
        }
      }, 100);
    }),
    exited.then(() => false),
  ]);
  assert.ok(ready, `npm start did not reach a working state:\n${output}`);
  return { child, exited, output: () => output };
}

describe("npm start", function () {
  this.timeout(180_000);
  const namespace = uniqueNamespace();
  const databaseUrl = uniqueDatabaseUrl();
  const runDir = mkdtempSync(path.join(os.tmpdir(), "rf-start-"));
  let ports: { token: number; fetcher: number; gateway: number; emulator: number };
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess | undefined;
  let output = "";
  let exited: Promise<number | null>;

  before(async () => {
    // the free ports are ephemeral ones: before npm start listens on one, another test's outgoing
    // connection may take it as its local port (seen once in CI); npm start then refuses it as in
    // use, and the test picks other ports
    for (let attempt = 1; ; attempt++) {
      await startOnFreePorts();
      if (child) return;
      if (attempt === 3 || !output.includes("already in use")) assert.fail(`npm start did not reach a working state:\n${output}`);
      output = "";
    }
  });

  async function startOnFreePorts(): Promise<void> {
    const [token, fetcher, gateway, emulator] = await freePorts(4);
    ports = { token: token!, fetcher: fetcher!, gateway: gateway!, emulator: emulator! };
    env = {
      ...process.env,
      REVIEWFLOW_RUN_DIR: runDir,
      DATABASE_URL: databaseUrl,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: namespace,
      TOKEN_PORT: String(ports.token),
      FETCHER_PORT: String(ports.fetcher),
      GATEWAY_PORT: String(ports.gateway),
      EMULATOR_PORT: String(ports.emulator),
      TOKEN_ENCRYPTION_KEY: "",
      ADMIN_API_KEY: "",
      GOOGLE_OAUTH_URL: "",
      GOOGLE_API_URL: "",
      START_EMULATOR: "",
      PUBLIC_URL: "",
      EMULATOR_SEED: "tiny",
    };
    try {
      ({ child, exited } = await startUntilReady(env, (chunk) => (output += chunk)));
    } catch {
      child = undefined;
    }
  }

  /** Stops the instance still running (the one the hook or an earlier test started), as Ctrl-C does: run alone, a test finds one. */
  async function stopRunning(): Promise<void> {
    if (child?.exitCode !== null) return;
    child.kill("SIGINT");
    await exited;
  }

  after(async function () {
    this.timeout(60_000);
    if (child && child.exitCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    const nats = await connectNats({ url: TEST_NATS_URL, namespace, skipEnsure: true });
    await deleteStreams(nats.jsm, nats.names);
    await nats.close();
    await dropDatabase(databaseUrl);
    rmSync(runDir, { recursive: true, force: true });
  });

  it("prints the admin key, the URLs and the next steps, and keeps the development secrets in its run directory", () => {
    assert.match(output, /✓ PostgreSQL and NATS JetStream answer/);
    assert.match(output, /✓ Demo client \(emulated Google\) connected through the consent flow/);
    assert.ok(existsSync(path.join(runDir, "dev-secrets.json")));
    const key = commandsUnder(output, "Try it with curl:")[0]!;
    assert.match(key, /^export RF_KEY=rf_dev_admin_/);
    assert.ok(output.includes(`http://localhost:${ports.gateway}`));
    assert.ok(output.includes(`localhost:${ports.token}`) && output.includes(`localhost:${ports.fetcher}`));
    assert.ok(commandsUnder(output, "gRPC with grpcurl").some((l) => l.startsWith("grpcurl -plaintext") && l.endsWith(" list")));
    assert.match(
      commandsUnder(output, "Watch review events")[0]!,
      new RegExp(`NATS_NAMESPACE=${namespace} npm run reviews:tail -- --from-start`),
    );
  });

  it("runs the printed curl commands: a job is created, finishes, and its reviews and the demo branches are listed", async () => {
    const [exportKey, createJob, getJob, listReviews, listBranches] = commandsUnder(output, "Try it with curl:");
    const jobId = (await bash(`${exportKey}\n${createJob}\necho "$JOB_ID"`, env)).trim().split("\n").pop()!;
    assert.match(jobId, /^[0-9a-f-]{36}$/);
    let job: { job?: { status?: string; counters?: Record<string, string> } } = {};
    for (let i = 0; i < 300 && job.job?.status !== "JOB_STATUS_SUCCEEDED"; i++) {
      job = JSON.parse(await bash(`${exportKey}\nJOB_ID=${jobId}\n${getJob}`, env)) as typeof job;
      if (job.job?.status === "JOB_STATUS_FAILED" || job.job?.status === "JOB_STATUS_PARTIAL")
        assert.fail(`job ended ${JSON.stringify(job)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(job.job?.status, "JOB_STATUS_SUCCEEDED");
    const reviews = JSON.parse(await bash(`${exportKey}\n${listReviews}`, env)) as { reviews?: { review?: { name?: string } }[] };
    assert.equal(reviews.reviews?.length, 3);
    assert.match(reviews.reviews![0]!.review!.name!, /^accounts\/.+\/locations\/.+\/reviews\/.+/);
    const branches = JSON.parse(await bash(`${exportKey}\n${listBranches}`, env)) as { branches?: { branch_id?: string }[] };
    assert.deepEqual(branches.branches?.map((b) => b.branch_id).sort(), ["demo-1", "demo-2"]);
  });

  it("runs the printed buf curl commands over gRPC with reflection", async () => {
    const [exportKey] = commandsUnder(output, "Try it with curl:");
    const [listServices, listJobs] = commandsUnder(output, "... or with buf curl");
    const services = await bash(listServices!, env);
    assert.match(services, /reviewflow\.token\.v1\.TokenService/);
    assert.match(services, /grpc\.health\.v1\.Health/);
    const jobs = JSON.parse(await bash(`${exportKey}\n${listJobs}`, env)) as { jobs?: unknown[] };
    assert.ok((jobs.jobs?.length ?? 0) >= 1);
  });

  it("runs the printed grpcurl commands when grpcurl is installed", async function () {
    try {
      await run("grpcurl", ["-version"]);
    } catch {
      console.log("      grpcurl is not installed (Debian does not package it): its commands were not run");
      return this.skip();
    }
    const [exportKey] = commandsUnder(output, "Try it with curl:");
    const [list, describeCmd] = commandsUnder(output, "gRPC with grpcurl");
    assert.match(await bash(`${exportKey}\n${list}`, env), /reviewflow\.token\.v1\.TokenService/);
    assert.match(await bash(`${exportKey}\n${describeCmd}`, env), /CreateFetchJob/);
  });

  it("serves Prometheus metrics on every service port", async () => {
    for (const port of [ports.token, ports.fetcher, ports.gateway]) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200, `port ${port}`);
      assert.match(await res.text(), /^# HELP /m);
    }
  });

  it("the printed reviews:tail command receives every review of the demo job", async () => {
    const [tailCommand] = commandsUnder(output, "Watch review events");
    // run as printed (through npm), in a process group of its own so SIGINT reaches node too
    const tail = spawn("bash", ["-c", tailCommand!], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const tailExited = new Promise((resolve) => tail.once("exit", resolve));
    let lines = "";
    tail.stdout!.on("data", (c: Buffer) => (lines += c.toString()));
    const data = (await (await fetch(`http://127.0.0.1:${ports.emulator}/_emulator/data`)).json()) as { totalReviews: number };
    const received = () => lines.split("\n").filter((l) => l.startsWith("{")).length;
    try {
      for (let i = 0; i < 300 && received() < data.totalReviews; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.kill(-tail.pid!, "SIGINT");
      await tailExited;
    }
    const events = lines
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event_id: string; type: string; review: { name: string } });
    assert.equal(events.length, data.totalReviews);
    assert.equal(new Set(events.map((e) => e.event_id)).size, data.totalReviews);
    assert.ok(events.every((e) => e.type === "REVIEW_EVENT_TYPE_CREATED"));
  });

  it("the example subscriber (examples/subscriber.ts) receives every review of the demo job", async () => {
    const sub = spawn(process.execPath, ["--import", "tsx", "examples/subscriber.ts"], {
      cwd: REPO_ROOT,
      env: { ...env, CONSUMER_NAME: "start-test-example" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const subExited = new Promise((resolve) => sub.once("exit", resolve));
    let lines = "";
    sub.stdout!.on("data", (c: Buffer) => (lines += c.toString()));
    const data = (await (await fetch(`http://127.0.0.1:${ports.emulator}/_emulator/data`)).json()) as { totalReviews: number };
    const received = () => lines.split("\n").filter((l) => l.startsWith("CREATED ")).length;
    try {
      for (let i = 0; i < 300 && received() < data.totalReviews; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      sub.kill("SIGINT");
      await subExited;
    }
    assert.equal(received(), data.totalReviews, lines);
    assert.match(lines, /^CREATED [1-5]★ accounts\/.+\/reviews\/.+: /m);
  });

  it("finds the demo data of an earlier start instead of creating it again", async () => {
    const adminKey = commandsUnder(output, "Try it with curl:")[0]!.replace("export RF_KEY=", "");
    const token = createServiceClient(TokenService, `http://127.0.0.1:${ports.token}`, { apiKey: adminKey });
    const client = (await token.listClients({})).clients[0]!;
    const again = await seedDemo(token, {
      tenantName: "demo",
      clientName: "ignored",
      googleClientId: "demo-client.apps.googleusercontent.com",
      clientSecret: "demo-secret",
      redirectUri: client.redirectUri,
      branches: [],
    });
    assert.deepEqual(again.created, []);
    assert.equal(again.client.id, client.id);
  });

  it("restarts a service that was killed, says so, and keeps the others running", async () => {
    const pid = Number(/✓ fetcher healthy on port \d+ \(pid (\d+)\)/.exec(output)?.[1]);
    assert.ok(pid > 0, output);
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 300 && !/✓ fetcher restarted, healthy/.test(output); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(output, /! fetcher killed by SIGKILL: restarting it in 1 s \(restart 1 in a row/);
    assert.match(output, /✓ fetcher restarted, healthy on port \d+ \(pid \d+\)/);
    assert.equal(child!.exitCode, null, output);
  });

  it("stops every service on SIGINT and exits 0", async () => {
    child!.kill("SIGINT");
    assert.equal(await exited, 0, output);
    for (const port of Object.values(ports)) assert.equal(await isPortOpen(port), false, `port ${port} still open`);
    assert.match(output, /gateway stopped/);
  });

  it("starts again when its run directory was lost but the database kept: the demo client's secret is sealed again", async () => {
    rmSync(path.join(runDir, "dev-secrets.json"));
    const again = await startUntilReady(env);
    child = again.child;
    exited = again.exited;
    assert.match(again.output(), /its secret is sealed again with the new key/);
    assert.match(again.output(), /✓ Demo client \(emulated Google\) connected through the consent flow/);
    child.kill("SIGINT");
    assert.equal(await exited, 0, again.output());
  });

  it("against another Google (START_EMULATOR=false) does not take the emulator's grant for a connection, and says when the person has consented", async () => {
    // a second emulator, without auto-approve, stands in for the real Google: it shows a consent page
    const google = await startGoogleEmulator({ port: 0, seed: "tiny", autoApprove: false });
    try {
      const live = await startUntilReady({
        ...env,
        START_EMULATOR: "false",
        GOOGLE_OAUTH_URL: google.url,
        GOOGLE_API_URL: google.url,
        GOOGLE_CLIENT_ID: "demo-client.apps.googleusercontent.com",
        GOOGLE_CLIENT_SECRET: "demo-secret",
      });
      child = live.child;
      exited = live.exited;
      assert.match(live.output(), /holds a grant from http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth, not from http/);
      assert.match(live.output(), /needs a person to consent/);
      const loginUrl = /Open this one-time link[^\n]*\n\s+(http\S+)/.exec(live.output())?.[1];
      assert.ok(loginUrl, live.output());
      // the person allows access: the login link leads through Google's consent to /auth/callback
      google.controls.configure({ autoApprove: true });
      const page = await fetch(loginUrl);
      assert.equal(page.status, 200, await page.text());
      for (let i = 0; i < 100 && !/connected to Google: the consent was completed/.test(live.output()); i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(live.output(), /✓ Demo client \(emulated Google\) connected to Google: the consent was completed/);
      child.kill("SIGINT");
      assert.equal(await exited, 0, live.output());
    } finally {
      await google.close();
    }
  });

  it("stops every service when the npm that ran it gets SIGTERM (npm's shell does not pass it on)", async () => {
    await stopRunning();
    const viaNpm = await startUntilReady(env, undefined, { viaNpm: true });
    child = viaNpm.child;
    exited = viaNpm.exited;
    child.kill("SIGTERM");
    await exited;
    for (let i = 0; i < 300 && !/emulator stopped/.test(viaNpm.output()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(viaNpm.output(), /the npm that ran this is gone: stopping/);
    assert.match(viaNpm.output(), /gateway stopped/);
    for (const port of Object.values(ports)) assert.equal(await isPortOpen(port), false, `port ${port} still open`);
  });

  it("leaves no service running when npm start itself is killed with SIGKILL", async () => {
    await stopRunning();
    const killed = await startUntilReady(env);
    child = killed.child;
    exited = killed.exited;
    const pids = [...killed.output().matchAll(/healthy on port \d+ \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 4, killed.output());
    child.kill("SIGKILL");
    await exited;
    const alive = () => pids.filter((pid) => isAlive(pid));
    for (let i = 0; i < 300 && alive().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(alive(), [], "services still running after their launcher was killed");
    for (const port of Object.values(ports)) assert.equal(await isPortOpen(port), false, `port ${port} still open`);
  });
});

describe("npm start without Postgres or NATS", () => {
  it("says which one is missing or lacks JetStream, how to start it, and exits 1", async function () {
    this.timeout(30_000);
    const binary = natsServerBinary();
    if (!binary) return this.skip();
    // a NATS without -js on one port, nothing at all on the Postgres port
    const [pgPort, natsPort] = await freePorts(2);
    const plain = spawn(binary, ["-a", "127.0.0.1", "-p", String(natsPort)], { stdio: "ignore" });
    const runDir = mkdtempSync(path.join(os.tmpdir(), "rf-start-"));
    try {
      for (let i = 0; i < 100 && !(await isPortOpen(natsPort!)); i++) await new Promise((r) => setTimeout(r, 50));
      const result = await run(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          REVIEWFLOW_RUN_DIR: runDir,
          DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/reviewflow`,
          NATS_URL: `nats://127.0.0.1:${natsPort}`,
        },
      }).then(
        () => ({ code: 0, stdout: "" }),
        (err: { code: number; stdout: string }) => err,
      );
      assert.equal(result.code, 1);
      assert.match(result.stdout, new RegExp(`PostgreSQL is not reachable at 127\\.0\\.0\\.1:${pgPort}`));
      assert.match(result.stdout, /pg_ctlcluster/);
      assert.match(result.stdout, new RegExp(`NATS at 127\\.0\\.0\\.1:${natsPort} answers, but JetStream is not enabled`));
      assert.match(result.stdout, /restart nats-server with -js/);
    } finally {
      plain.kill("SIGTERM");
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it("names a NATS that does not answer at all, with the command that starts one", async () => {
    const [closedPort] = await freePorts(1);
    const problem = await checkNats(`nats://127.0.0.1:${closedPort}`);
    assert.ok(problem);
    assert.equal(problem.what, `NATS is not reachable at 127.0.0.1:${closedPort}`);
    // the advice starts a server on the port NATS_URL names, not on the default one
    assert.match(formatProblem(problem), new RegExp(`nats-server -js -a 127\\.0\\.0\\.1 -p ${closedPort} -sd \\.nats-data -m 8222`));
  });

  it("tells a missing Postgres role from a Postgres that is not running, and does not say to start it", async () => {
    const problem = await checkPostgres("postgres://rf_no_such_role@127.0.0.1:5432/reviewflow");
    assert.ok(problem);
    assert.match(problem.what, /does not let role "rf_no_such_role" in/);
    const text = formatProblem(problem);
    assert.match(text, /createuser --superuser rf_no_such_role/);
    assert.doesNotMatch(text, /Start it|pg_ctlcluster/);
  });

  it("tells a refused password and a missing maintenance database apart by their SQLSTATE", () => {
    const url = "postgres://alice:secret@db.example:5433/reviewflow";
    const password = diagnosePostgres(Object.assign(new Error('password authentication failed for user "alice"'), { code: "28P01" }), url);
    assert.equal(password.what, 'PostgreSQL at db.example:5433 refused the password of role "alice"');
    const database = diagnosePostgres(Object.assign(new Error("x"), { code: "3D000" }), url);
    assert.match(database.what, /has no database "postgres"/);
    const refused = diagnosePostgres(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), url);
    assert.equal(refused.what, "PostgreSQL is not reachable at db.example:5433");
    assert.match(formatProblem(refused), /Start it, then run npm start again/);
  });
});
