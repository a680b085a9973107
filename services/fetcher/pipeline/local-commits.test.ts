import assert from "node:assert/strict";
import { createLocalCommits } from "./local-commits.js";

describe("local commits", () => {
  it("wakes a waiter when the task it follows ends here, and knows nothing of tasks running elsewhere", async () => {
    const local = createLocalCommits();
    assert.equal(local.wait("page-1"), undefined, "not running here: the waiter polls the database");
    local.begin("page-1");
    let woken = false;
    const waiting = local.wait("page-1")!.then(() => (woken = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(woken, false);
    local.end("page-1");
    local.end("page-1"); // the commit, then the runner's finally: a second end is harmless
    await waiting;
    assert.equal(woken, true);
    assert.equal(local.wait("page-1"), undefined);
  });
});
