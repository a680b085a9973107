import assert from "node:assert/strict";
import { runFetcherBench } from "../bench/fetcher.js";
import { natsServerBinary } from "../bench/harness/nats-server.js";

// The ReviewFetcher benchmarks at reduced size, so they cannot rot. Figures are printed, never
// asserted on (the box's load moves them); only what each run must have done is checked.
describe("ReviewFetcher benchmarks (reduced)", function () {
  this.timeout(180_000);

  it("time a job against the raw JetStream and store-and-publish ceilings, a quota-bound job against its minimum, and memory over repeated jobs", async function () {
    if (!natsServerBinary()) return this.skip();
    const lines: string[] = [];
    const rows = await runFetcherBench({ size: "reduced", log: (line) => lines.push(line) });
    for (const row of rows) console.log(`      ${row.name}: ${row.figure}${row.ratio ? `, ${row.ratio}` : ""}`);
    const names = rows.map((r) => r.name).join("\n");
    assert.match(names, /raw JetStream, [\d,]+ msgs/);
    const endToEnd = rows.filter((r) => r.name.startsWith("end-to-end job"));
    assert.equal(endToEnd.length, 2, names);
    for (const row of endToEnd) {
      assert.match(row.figure, /reviews\/s \(.*SUCCEEDED\)$/, row.figure);
      assert.match(row.ratio ?? "", /^\d+\.\d\d × raw JetStream \(/);
    }
    // the ceiling with the rows every created review needs, once per end-to-end run
    assert.equal(rows.filter((r) => r.name.startsWith("store and publish:")).length, 2, names);
    const againstStore = rows.filter((r) => r.name.startsWith("the same end-to-end job against store and publish"));
    assert.equal(againstStore.length, 2, names);
    for (const row of againstStore) assert.match(row.ratio ?? "", /^\d+\.\d\d × store and publish \(/);
    assert.match(rows.find((r) => r.name.startsWith("fetcher RSS"))?.ratio ?? "", /^[+-]\d+\.\d %$/);
    const quota = rows.find((r) => r.name.startsWith("quota-bound job"));
    assert.match(quota?.figure ?? "", / 0 × 429$/, `${quota?.figure}\n${lines.join("\n")}`);
    const parts = rows.filter((r) => r.name.startsWith("fetcher CPU per review by part"));
    assert.equal(parts.length, 2, names);
    for (const row of parts) assert.match(row.figure, /google [\d.]+ µs .*diffing .*postgres .*nats .*gc .*other /, row.figure);
  });
});
