import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { EmulatorEnvError, loadEmulatorEnv } from "./env.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("emulator environment", () => {
  it("defaults to port 8090, the demo seed and the demo client", () => {
    const env = loadEmulatorEnv({});
    assert.equal(env.port, 8090);
    assert.equal(env.seed, "demo");
    assert.equal(env.autoApprove, false);
    assert.deepEqual(env.clients, [{ id: "demo-client.apps.googleusercontent.com", secret: "demo-secret" }]);
    assert.equal(env.accessTokenTtlSeconds, undefined);
  });

  it("reads clients, seed, auto-approve and token lifetime", () => {
    const env = loadEmulatorEnv({
      EMULATOR_PORT: "0",
      EMULATOR_SEED: "large",
      EMULATOR_CLIENTS: "a.apps:s1, b.apps:s:2",
      EMULATOR_AUTO_APPROVE: "true",
      EMULATOR_TOKEN_TTL_SECONDS: "120",
    });
    assert.deepEqual(env.clients, [
      { id: "a.apps", secret: "s1" },
      { id: "b.apps", secret: "s:2" },
    ]);
    assert.equal(env.seed, "large");
    assert.equal(env.autoApprove, true);
    assert.equal(env.accessTokenTtlSeconds, 120);
  });

  it("names the variable of a bad value and never echoes a secret", () => {
    const cases: [Record<string, string>, string][] = [
      [{ EMULATOR_PORT: "http" }, "EMULATOR_PORT"],
      [{ EMULATOR_PORT: "70000" }, "EMULATOR_PORT"],
      [{ EMULATOR_SEED: "huge" }, "EMULATOR_SEED"],
      [{ EMULATOR_CLIENTS: "no-secret-here" }, "EMULATOR_CLIENTS"],
      [{ EMULATOR_AUTO_APPROVE: "maybe" }, "EMULATOR_AUTO_APPROVE"],
      [{ EMULATOR_TOKEN_TTL_SECONDS: "0" }, "EMULATOR_TOKEN_TTL_SECONDS"],
    ];
    for (const [env, variable] of cases) {
      assert.throws(
        () => loadEmulatorEnv(env),
        (e: unknown) => e instanceof EmulatorEnvError && e.variable === variable,
      );
    }
    assert.throws(
      () => loadEmulatorEnv({ EMULATOR_CLIENTS: "Sup3rS3cret" }),
      (e: unknown) => !String(e).includes("Sup3rS3cret"),
    );
  });
});

describe("emulator main process", () => {
  function start(env: Record<string, string>) {
    return spawn(process.execPath, ["--import", "tsx", "emulator/main.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  it("logs one JSON line on listen, serves, and exits 0 on SIGTERM", async () => {
    const child = start({ EMULATOR_PORT: "0", EMULATOR_SEED: "tiny", EMULATOR_AUTO_APPROVE: "true" });
    try {
      const [chunk] = (await once(child.stdout, "data")) as [Buffer];
      const line = JSON.parse(chunk.toString().split("\n")[0] as string);
      assert.equal(line.msg, "google emulator listening");
      assert.equal(line.seed, "tiny");
      assert.ok(!JSON.stringify(line).includes("demo-secret"));
      const data = (await (await fetch(`${line.url}/_emulator/data`)).json()) as { accounts: unknown[] };
      assert.equal(data.accounts.length, 1);
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("serves byte-identical seeded reviews after a restart with the same EMULATOR_SEED", async () => {
    /** One process's answer for every location's first review page, then SIGTERM. */
    const servedByOneProcess = async (): Promise<string[]> => {
      const child = start({ EMULATOR_PORT: "0", EMULATOR_SEED: "demo" });
      try {
        const [chunk] = (await once(child.stdout, "data")) as [Buffer];
        const { url } = JSON.parse(chunk.toString().split("\n")[0] as string) as { url: string };
        const issued = await fetch(`${url}/_emulator/tokens/issue`, {
          method: "POST",
          body: JSON.stringify({ client_id: "demo-client.apps.googleusercontent.com" }),
        });
        const { access_token } = (await issued.json()) as { access_token: string };
        const data = (await (await fetch(`${url}/_emulator/data`)).json()) as { accounts: { locations: { parent: string }[] }[] };
        const pages: string[] = [];
        for (const loc of data.accounts.flatMap((a) => a.locations)) {
          pages.push(
            await (await fetch(`${url}/v4/${loc.parent}/reviews`, { headers: { authorization: `Bearer ${access_token}` } })).text(),
          );
        }
        child.kill("SIGTERM");
        await once(child, "exit");
        return pages;
      } finally {
        child.kill("SIGKILL");
      }
    };
    const first = await servedByOneProcess();
    const second = await servedByOneProcess();
    assert.ok(first.some((page) => page.includes('"reviews"')));
    assert.deepEqual(second, first);
  });

  it("exits 1 naming the variable when the environment is bad", async () => {
    const child = start({ EMULATOR_SEED: "gigantic" });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const [code] = await once(child, "exit");
    assert.equal(code, 1);
    assert.match(stderr, /EMULATOR_SEED/);
  });
});
