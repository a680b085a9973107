import assert from "node:assert/strict";
import { natsServerBinary } from "../bench/harness/nats-server.js";
import { runSyncBench } from "../bench/sync.js";

// The sync scheduler's benchmark at reduced size, so it cannot rot. Figures are printed, never
// asserted on (a few edits over a few seconds say nothing); only the shape of what it reports is.
describe("sync scheduler benchmark (reduced)", function () {
  this.timeout(120_000);

  it("times edits under uniform and adaptive intervals, and reports quota use and windows over quota", async function () {
    if (!natsServerBinary()) return this.skip();
    const lines: string[] = [];
    const rows = await runSyncBench({ size: "reduced", log: (line) => lines.push(line) });
    for (const row of rows) console.log(`      ${row.name}: ${row.figure}${row.ratio ? `, ${row.ratio}` : ""}`);
    const all = lines.join("\n");
    assert.equal(rows.length, 4, all);
    const [uniform, adaptive, quota, windows] = rows;
    assert.match(uniform!.name, /uniform .* \(SYNC_ADAPTIVE=false\)/);
    for (const row of [uniform!, adaptive!])
      assert.match(row.figure, /^mean [\d.]+ s, p95 [\d.]+ s \([\d,]+ edits(, \d+ never seen)?; [\d,]+ requests\)$/, all);
    assert.match(adaptive!.ratio ?? "", /^\d+\.\d\d × uniform mean \(ideal for these rates \d\.\d\d\)$/);
    assert.equal(adaptive!.target, "≤ 0.5");
    assert.match(
      quota!.figure,
      /^schedule alone: uniform [\d.]+ \(asks [\d.]+\), adaptive [\d.]+ \(asks [\d.]+\); \+ an on-demand full fetch of every project on top: [\d. /]+ per project$/,
      all,
    );
    assert.match(quota!.ratio ?? "", /^[\d.]+ × budget \(lowest\)$/);
    assert.match(windows!.figure, /^peak \d+ requests in any 60 s; \d+ × 429$/);
    assert.match(windows!.ratio ?? "", /^\d+ windows over$/);
    // the workload ran as designed: every request found its Google, no review was edited twice
    assert.match(all, /uniform: 0 other events, 0 reviews edited twice, 0 Google requests routed by default/);
    assert.match(all, /adaptive: 0 other events, 0 reviews edited twice, 0 Google requests routed by default/);
  });
});
