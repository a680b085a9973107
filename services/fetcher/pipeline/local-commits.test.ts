import assert from "node:assert/strict";
import { createLocalCommits } from "./local-commits.js";

describe("local commits", () => {
  it("wakes a waiter when the task it follows ends here, and knows nothing of tasks running elsewhere", async () => {
    const local = createLocalCommits();
    assert.equal(local.wait("page-1"), undefined, "not running here: the waiter polls the database");
    local.begin("page-1");
    let woken: boolean | undefined;
    const waiting = local.wait("page-1")!.then((committed) => (woken = committed));
    await new Promise((r) => setImmediate(r));
    assert.equal(woken, undefined);
    local.end("page-1", true);
    local.end("page-1"); // the commit, then the runner's finally: a second end is harmless
    await waiting;
    assert.equal(woken, true, "woken by its commit: the waiter needs no read");
    assert.equal(local.wait("page-1"), undefined);
  });

  it("tells a waiter that a task which ended without its commit ended so (it reads the task's state)", async () => {
    const local = createLocalCommits();
    local.begin("page-2");
    const waiting = local.wait("page-2")!;
    local.end("page-2");
    assert.equal(await waiting, false);
  });
});
