import assert from "node:assert/strict";
import { runTokenBench } from "../bench/token.js";

// The benchmark at its reduced size, so it cannot rot. Only the storm's correctness is checked
// (exactly one refresh grant per client, every caller served); timings are figures, not asserts.
describe("bench/token.ts (reduced)", () => {
  it("measures Validate against an empty RPC, and refreshes each storm client exactly once", async function () {
    this.timeout(120_000);
    const rows = await runTokenBench({ size: "reduced" });
    assert.equal(rows.length, 4);
    for (const row of rows) assert.ok(row.figure.length > 0, row.name);
    const storm = rows.filter((r) => r.name.startsWith("refresh storm"));
    assert.equal(storm.length, 2);
    for (const row of storm) assert.equal(row.met, true, `${row.name}: ${row.figure}`);
  });
});
