import assert from "node:assert/strict";
import { runGatewayBench } from "../bench/gateway.js";
import { natsServerBinary } from "../bench/harness/nats-server.js";

// The gateway benchmark at reduced size, so it cannot rot. Figures are printed, never asserted
// on: the box varies (and other suites may be running beside this one).
describe("npm run bench: gateway (reduced)", function () {
  this.timeout(120_000);

  it("times ValidateToken through the gateway next to direct gRPC, also with 2,000 idle connections held open, and reports the ratios", async function () {
    if (!natsServerBinary()) return this.skip();
    const rows = await runGatewayBench({ size: "reduced" });
    for (const row of rows) console.log(`      ${row.name}: ${row.figure}${row.ratio ? ` (${row.ratio}, target ${row.target})` : ""}`);
    assert.equal(rows.length, 6);
    assert.match(rows[1]!.ratio ?? "", /^\+-?\d+\.\d\d ms at p50 over direct$/);
    assert.match(rows[2]!.figure, /µs gateway|not measured/);
    if (!rows[2]!.figure.startsWith("not measured")) assert.match(rows[2]!.ratio ?? "", /^\d+\.\d\d × the TokenService's$/);
    assert.match(rows[4]!.ratio ?? "", /^\d+\.\d\d × direct$/);
    assert.deepEqual(
      rows.map((r) => r.target),
      [undefined, "≤ 1 ms added", "≤ 1 ×", undefined, "≥ 0.8", undefined],
    );
    assert.match(rows[5]!.ratio ?? "", /^\d+\.\d\d × without them$/);
  });
});
