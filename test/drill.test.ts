// The fault drills at reduced size, so they cannot rot: each breaks a running job (kill -9 of a
// fetcher, a NATS restart, Postgres connections cut, 10% Google 5xx; on a three-node cluster with
// R3 streams, kill -9 of a stream leader, a rolling restart, a lost quorum) and must still deliver
// every review exactly once, with the job finished.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { runClusterDrills } from "../bench/cluster-drills.js";
import { runDrills, type DrillResult } from "../bench/drills.js";
import { natsServerBinary } from "../bench/harness/nats-server.js";
import { count, formatTable, seconds } from "../bench/harness/table.js";
import { REPO_ROOT } from "../scripts/support/child-service.js";

const run = promisify(execFile);

/** Runs a set of drills once for the surrounding describe; `expectClean` checks one by name. */
function useDrills(start: () => Promise<DrillResult[]>) {
  let results: DrillResult[] = [];
  const lines: string[] = [];
  before(async function () {
    if (!natsServerBinary()) {
      console.log("    nats-server is not installed (apt-get install nats-server): skipping the drills");
      return this.skip();
    }
    results = await start().catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${lines.join("\n")}`);
    });
    // figures for people reading the test output; nothing below asserts on time
    const table = formatTable(
      ["drill", "expected", "delivered", "total", "lost", "duplicated", "job", "time"],
      results.map((r) => [
        r.name,
        count(r.expected),
        count(r.delivered),
        count(r.total),
        count(r.lost),
        count(r.duplicated),
        r.jobStatus,
        seconds(r.ms),
      ]),
    );
    console.log(table.replace(/^/gm, "      "));
  });
  const drill = (name: string) => {
    const result = results.find((r) => r.name === name);
    assert.ok(result, `drill "${name}" did not run:\n${lines.join("\n")}`);
    return result;
  };
  const expectClean = (name: string) => {
    const r = drill(name);
    const context = `${name}:\n${r.notes.join("\n")}`;
    assert.ok(r.expected > 0, context);
    assert.equal(r.jobStatus, "SUCCEEDED", context);
    assert.equal(r.lost, 0, context);
    assert.equal(r.duplicated, 0, context);
    assert.equal(r.delivered, r.expected, context);
    assert.deepEqual(r.problems, [], context);
  };
  return { drill, expectClean, log: (line: string) => lines.push(line) };
}

describe("npm run drill (reduced)", function () {
  this.timeout(300_000);
  const { drill, expectClean, log } = useDrills(() => runDrills({ size: "reduced", log }));

  it("loses and duplicates nothing when a fetcher is killed with SIGKILL mid-job", () => {
    expectClean("kill -9 of a fetcher mid-job");
    assert.ok(drill("kill -9 of a fetcher mid-job").notes.some((n) => n.includes("with SIGKILL")));
  });

  it("loses and duplicates nothing when NATS restarts mid-job", () => {
    expectClean("NATS restart mid-job");
  });

  it("loses and duplicates nothing when Postgres connections are cut mid-job", () => {
    expectClean("Postgres connections cut mid-job");
    assert.ok(drill("Postgres connections cut mid-job").notes.some((n) => /[1-9]\d* connections cut/.test(n)));
  });

  it("loses and duplicates nothing when Google answers 5xx to 10% of calls", () => {
    expectClean("10% Google 5xx");
  });
});

describe("npm run drill -- --cluster (reduced)", function () {
  this.timeout(300_000);
  const { drill, expectClean, log } = useDrills(() => runClusterDrills({ size: "reduced", log }));

  it("loses and duplicates nothing when the FETCH stream's leader is killed with SIGKILL mid-job", () => {
    expectClean("kill -9 of the FETCH leader mid-job");
    assert.ok(drill("kill -9 of the FETCH leader mid-job").notes.some((n) => /leader of \S+_FETCH, with SIGKILL/.test(n)));
  });

  it("loses and duplicates nothing when the REVIEWS stream's leader is killed with SIGKILL mid-job", () => {
    expectClean("kill -9 of the REVIEWS leader mid-job");
    assert.ok(drill("kill -9 of the REVIEWS leader mid-job").notes.some((n) => /leader of \S+_REVIEWS, with SIGKILL/.test(n)));
  });

  it("loses and duplicates nothing through a rolling restart of all three nodes mid-job", () => {
    expectClean("rolling restart of all three nodes mid-job");
    assert.equal(
      drill("rolling restart of all three nodes mid-job").notes.filter((n) => /^n\d restarted .* and caught up/.test(n)).length,
      3,
    );
  });

  it("answers UNAVAILABLE while the quorum is lost, crashes nothing, and resumes by itself without loss", () => {
    const name = "two nodes down (quorum lost), then back";
    expectClean(name);
    const notes = drill(name).notes;
    assert.ok(
      notes.some((n) => /^CreateFetchJob answered UNAVAILABLE \d+ times, first .*: "JetStream cannot take new work now: /.test(n)),
      notes.join("\n"),
    );
    assert.ok(
      notes.some((n) => n.startsWith("work resumed by itself")),
      notes.join("\n"),
    );
  });
});

describe("npm run drill (entry point)", () => {
  it("prints its report table and exits 0 when the selected drills meet the goal", async function () {
    this.timeout(30_000);
    if (!natsServerBinary()) return this.skip();
    // selecting no drill exercises the script itself (own nats-server, report) in a second
    const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/drill.ts", "--reduced", "--only", "no such drill"], {
      cwd: REPO_ROOT,
    });
    assert.match(stdout, /own nats-server on port \d+/);
    assert.match(stdout, /Fault drills \(reduced\)\ndrill\s+expected\s+delivered\s+total\s+lost\s+duplicated\s+job\s+time/);
  });

  it("with --cluster, starts a three-node cluster of its own and prints the cluster drills' table", async function () {
    this.timeout(60_000);
    if (!natsServerBinary()) return this.skip();
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "bench/drill.ts", "--cluster", "--reduced", "--only", "no such drill"],
      { cwd: REPO_ROOT },
    );
    assert.match(stdout, /own nats cluster "[^"]+": n1 on port \d+, n2 on port \d+, n3 on port \d+/);
    assert.match(stdout, /Cluster drills \(reduced; 3 nats-servers, streams at R3\)\ndrill\s+expected/);
  });
});
