// A service whose launcher is killed outright (kill -9) stops by itself, and gets to finish its
// stop although the launcher, which read its output, is gone.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../../scripts/support/child-service.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("whenLauncherGone", function () {
  this.timeout(30_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "rf-launcher-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("stops a service whose launcher was SIGKILLed, and its stop runs to the end while it keeps writing", async () => {
    const done = path.join(dir, "done");
    const service = path.join(dir, "service.ts");
    // writes to the launcher all the time, so a write after the launcher's death would fail (EPIPE)
    writeFileSync(
      service,
      `import { writeFileSync } from "node:fs";
       import { whenLauncherGone } from ${JSON.stringify(path.join(REPO_ROOT, "lib/process/launcher.ts"))};
       setInterval(() => process.stdout.write("working\\n"), 20);
       whenLauncherGone(() => {
         process.stdout.write("stopping\\n");
         setTimeout(() => { writeFileSync(${JSON.stringify(done)}, "stopped"); process.exit(0); }, 300);
       });`,
    );
    const launcherScript = `
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, ["--import", "tsx", ${JSON.stringify(service)}], {
        cwd: ${JSON.stringify(REPO_ROOT)},
        env: { ...process.env, REVIEWFLOW_LAUNCHER_PID: String(process.pid) },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      child.stdout.once("data", () => console.log(child.pid));
      setInterval(() => {}, 1000);`;
    const launcher = spawn(process.execPath, ["-e", launcherScript], { stdio: ["ignore", "pipe", "inherit"] });
    const servicePid = await new Promise<number>((resolve) =>
      launcher.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))),
    );
    assert.ok(servicePid > 0);
    launcher.kill("SIGKILL");
    for (let i = 0; i < 100 && !existsSync(done); i++) await sleep(100);
    assert.equal(existsSync(done) ? readFileSync(done, "utf8") : "no stop", "stopped");
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      try {
        process.kill(servicePid, 0);
        await sleep(100);
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, "the service still runs");
  });
});
