import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ADMIN_KEY, fetcherClient, readReviewEvents, useFetcherFixture, waitForJob } from "./fetcher-fixture.js";

/** A fetcher as its own process (`node --import tsx services/fetcher/main.ts`), the way it runs for real. */
class FetcherProcess {
  private output: string[] = [];
  private child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ["--import", "tsx", "services/fetcher/main.ts"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** Resolves once the gRPC port answers health checks. */
  async ready(port: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return;
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`fetcher did not start:\n${this.output.join("")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  get log(): string {
    return this.output.join("");
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("ReviewFetcher process killed mid-job", function () {
  this.timeout(90_000);
  // registered before the fixture's hooks: no fetcher outlives the database and streams it uses
  const children: FetcherProcess[] = [];
  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
  });
  const f = useFetcherFixture({
    inProcess: false,
    // 12 locations of 60–200 reviews: ~40 review pages
    emulator: { seed: { accounts: 2, locationsPerAccount: 6, reviewsPerLocation: [60, 200] } },
  });

  it("completes the job after a restart, losing no review and publishing none twice", async () => {
    const port = await freePort();
    const env = f.childEnv({ FETCHER_PORT: String(port) });
    const first = new FetcherProcess(env);
    children.push(first);
    await first.ready(port);
    const api = fetcherClient(`http://127.0.0.1:${port}`, ADMIN_KEY);

    // slow pages, so the kill lands in the middle of the job
    f.emulator.controls.addFault({ endpoint: "reviews.list", kind: "latency", latencyMs: 150 });
    const { jobId } = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } });
    let pagesAtKill = 0;
    for (;;) {
      pagesAtKill = Number((await api.getFetchJob({ jobId })).job!.counters!.pages);
      if (pagesAtKill >= 8) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    first.kill("SIGKILL");
    assert.equal(await first.exited, null, "killed by the signal");
    f.emulator.controls.clearFaults();

    const second = new FetcherProcess(env);
    children.push(second);
    await second.ready(port);
    const job = await waitForJob(api, jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, `${job.error}\n${second.log}`);
    assert.ok(job.counters!.pages > BigInt(pagesAtKill), `the kill came mid-job (${pagesAtKill} of ${job.counters!.pages} pages)`);

    const total = f.emulator.controls.data().totalReviews;
    const events = await readReviewEvents(f.streams.nats);
    assert.equal(new Set(events.map((e) => e.review!.name)).size, total, "no review lost");
    assert.equal(events.length, total, "none published twice");
    assert.equal(job.counters!.created, BigInt(total));
    assert.equal(job.counters!.tasksDone, job.counters!.tasksTotal);

    second.kill("SIGTERM");
    assert.equal(await second.exited, 0, `graceful shutdown:\n${second.log}`);
  });
});
