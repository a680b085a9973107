// A service's stop that never finishes (in-flight work waiting on a server that is gone) still
// ends the process, by its deadline, saying so; a stop that finishes exits 0 at once.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../../scripts/support/child-service.js";

describe("runService's stop", function () {
  this.timeout(30_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "rf-run-service-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a service whose stop takes `stopMs` (never: -1), SIGTERMs it once ready; its exit code, output and stop time. */
  async function stopService(stopMs: number): Promise<{ code: number | null; output: string; ms: number }> {
    const file = path.join(dir, `service-${stopMs}.ts`);
    writeFileSync(
      file,
      `import { runService } from ${JSON.stringify(path.join(REPO_ROOT, "lib/process/run-service.ts"))};
       runService("stuck", async () => {
         setInterval(() => undefined, 1_000);
         // ready once runService has its signal handlers (they come when start resolves)
         setTimeout(() => process.stdout.write("ready\\n"), 100);
         return { stop: () => new Promise<void>((resolve) => { if (${stopMs} >= 0) setTimeout(resolve, ${stopMs}); }) };
       }, { stopDeadlineMs: 1_500 });`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += String(d)));
    child.stderr.on("data", (d: Buffer) => (output += String(d)));
    await new Promise<void>((resolve) => child.stdout.on("data", () => output.includes("ready") && resolve()));
    const sent = Date.now();
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    return { code, output, ms: Date.now() - sent };
  }

  it("exits 1 with a log line when the stop outlasts its deadline", async () => {
    const { code, output, ms } = await stopService(-1);
    assert.equal(code, 1, output);
    assert.match(output, /stop did not finish in time/);
    assert.ok(ms >= 1_400, `exited ${ms} ms after SIGTERM, before its deadline`);
  });

  it("exits 0 as soon as a stop finishes", async () => {
    const { code, output } = await stopService(100);
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /did not finish/);
  });
});
