// The benchmarks at reduced size, so they cannot rot: the naive googleapis loop and the pipeline
// (on a fresh fetcher, then for a second client on the warmed-up one) fetch the same job, and the
// runner reports figures (never asserted on: the box varies).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BENCH_MODULES, runAllBenchmarks } from "../bench/all.js";
import { natsServerBinary } from "../bench/harness/nats-server.js";
import { REPO_ROOT } from "../scripts/support/child-service.js";

const run = promisify(execFile);

describe("npm run bench (reduced)", function () {
  this.timeout(240_000);

  it("times the naive sequential loop and the pipeline on the same job, and both see every review", async function () {
    if (!natsServerBinary()) return this.skip();
    const lines: string[] = [];
    const baseline = BENCH_MODULES.filter((m) => m.exportName === "runBaselineBench");
    const [section] = await runAllBenchmarks({ size: "reduced", modules: baseline, log: (l) => lines.push(l) });
    assert.ok(section && !section.unavailable, `${section?.unavailable}\n${lines.join("\n")}`);
    const [naive, pipeline, , warm] = section.rows;
    console.log(`      ${naive!.name}: ${naive!.figure}\n      ${pipeline!.name}: ${pipeline!.figure}, ${pipeline!.ratio}`);
    const naiveReviews = /, ([\d,]+) reviews\)$/.exec(naive!.figure)?.[1];
    const pipelineReviews = /SUCCEEDED, ([\d,]+) reviews published/.exec(pipeline!.figure)?.[1];
    assert.ok(naiveReviews && Number(naiveReviews.replaceAll(",", "")) > 0, naive!.figure);
    assert.equal(pipelineReviews, naiveReviews, pipeline!.figure);
    assert.match(pipeline!.ratio ?? "", /^\d+(\.\d)? × faster than naive$/);
    assert.equal(pipeline!.target, "≥ 10×");
    // the same job again for a second client, on the fetcher the first warmed up: its own events
    assert.match(warm!.name, /second client/);
    assert.equal(/SUCCEEDED, ([\d,]+) reviews published/.exec(warm!.figure)?.[1], naiveReviews, warm!.figure);
  });

  it("reports a benchmark module that does not exist as not available instead of failing", async () => {
    const [section] = await runAllBenchmarks({
      size: "reduced",
      modules: [{ section: "Missing", file: "./no-such-bench.js", exportName: "runMissingBench" }],
    });
    assert.equal(section!.rows.length, 0);
    assert.match(section!.unavailable ?? "", /^not available \(bench\/no-such-bench\.ts does not exist yet\)$/);
  });

  it("prints one table from the entry point", async function () {
    this.timeout(30_000);
    const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/run.ts", "--reduced", "--only", "no such part"], {
      cwd: REPO_ROOT,
    });
    assert.match(stdout, /Benchmarks \(reduced, .*\)\npart\s+benchmark\s+figure\s+ratio\s+target\s+met/);
  });
});
