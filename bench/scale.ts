// Scale: ten Google projects (OAuth clients) fetching at their full quota at the same time, on two
// fetcher instances with default settings. Each project has a Google of its own (an emulator
// behind one origin: harness/google-router.ts) enforcing GOOGLE_QPM per minute, and one full job
// of about a minute's worth of requests at that quota; the ten jobs start together. Figures: each
// job's time (its own create → end) against its minimum (its Google requests / GOOGLE_QPM), the
// 60 s windows over the quota at Google and its 429s, and the fetchers' CPU per Google request
// (the two processes' CPU from /proc over the run, divided by every project's requests).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startGoogleEmulator, type EmulatorClient, type GoogleEmulator, type SeedSpec } from "../emulator/index.js";
import { FetchMode, JobStatus, type FetchJob } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { dropDatabase } from "../lib/db/index.js";
import { deleteStreams, streamNames } from "../lib/nats/index.js";
import { scratchDatabaseUrl } from "./harness/environment.js";
import { connectProjects } from "./harness/projects.js";
import { startGoogleRouter, type GoogleRouter } from "./harness/google-router.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer } from "./harness/nats-server.js";
import { createCpuSampler, cpuSpent } from "./harness/process-cpu.js";
import { startStack, type Stack } from "./harness/stack.js";
import { count, seconds } from "./harness/table.js";
import type { BenchFn, BenchSize } from "./types.js";

interface Sizes {
  projects: number;
  fetchers: number;
  /** Google's quota per project and GOOGLE_QPM. */
  qpm: number;
  /** Each project's data: about a minute of requests at `qpm` at full size. */
  seed: SeedSpec;
}

const SIZES: Record<BenchSize, Sizes> = {
  // 2 × 100 locations × 0–100 reviews: ~307 requests a project, a minute at Google's 300 QPM
  full: { projects: 10, fetchers: 2, qpm: 300, seed: { accounts: 2, locationsPerAccount: 100, reviewsPerLocation: [0, 100] } },
  reduced: { projects: 3, fetchers: 2, qpm: 1_200, seed: { accounts: 1, locationsPerAccount: 30, reviewsPerLocation: [0, 60] } },
};

const SEED = 4_242;
/** Token and consent endpoints are not Google API requests: they are not in the quota. */
const NOT_API = ["token", "tokeninfo", "authorize", "revoke"];

export const runScaleBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec = SIZES[size];
  const nats = await startNatsServer();
  const emulators: GoogleEmulator[] = [];
  const clients: EmulatorClient[] = [];
  const logDir = mkdtempSync(path.join(os.tmpdir(), "rf-bench-scale-"));
  const databaseUrl = scratchDatabaseUrl("bench-scale");
  const namespace = `scale${randomBytes(3).toString("hex")}`;
  let stack: Stack | undefined;
  let router: GoogleRouter | undefined;
  let failed = false;
  try {
    for (let p = 0; p < spec.projects; p++) {
      const client = {
        id: `scale-bench-p${p + 1}-${randomBytes(3).toString("hex")}.apps.googleusercontent.com`,
        secret: randomBytes(12).toString("hex"),
      };
      clients.push(client);
      emulators.push(
        await startGoogleEmulator({
          port: 0,
          seed: { ...spec.seed, seed: SEED + p },
          clients: [client],
          autoApprove: true,
          quotaPerMinute: spec.qpm,
        }),
      );
    }
    router = await startGoogleRouter(new Map(clients.map((c, i) => [c.id, emulators[i]!])));
    // default settings but the quota (and quieter logs)
    stack = await startStack({
      databaseUrl,
      natsUrl: nats.url,
      namespace,
      googleUrl: router.url,
      logDir,
      fetchers: spec.fetchers,
      env: { GOOGLE_QPM: String(spec.qpm), LOG_LEVEL: "warn" },
    });
    const clientIds = await connectProjects(stack, clients, "scale bench");
    for (const e of emulators) {
      e.controls.resetQuotaUsage();
      e.controls.resetStats();
    }
    const running = stack;
    const sampler = createCpuSampler(databaseUrl, () =>
      Object.fromEntries(running.fetcherServices.map((f, i) => [`fetcher-${i + 1}`, f.pid])),
    );
    const reviews = emulators.reduce((n, e) => n + e.controls.data().totalReviews, 0);
    log(
      `${spec.projects} projects × ${spec.seed.accounts * spec.seed.locationsPerAccount} locations (${count(reviews)} reviews in all), ${spec.qpm} QPM each, ${spec.fetchers} fetchers, default FETCH_CONCURRENCY`,
    );

    const before = await sampler.sample();
    const started = performance.now();
    const jobs = await Promise.all(
      clientIds.map(async (clientId, p) => {
        // each fetcher takes half of the requests, as a load balancer would spread them
        const fetcher = running.fetcherAt(p % spec.fetchers);
        const created = await fetcher.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL });
        return (await waitForJob(created.jobId, { timeoutMs: 900_000, client: () => fetcher, intervalMs: 250 })).job;
      }),
    );
    const wallMs = performance.now() - started;
    const spent = cpuSpent(before, await sampler.sample());
    await sampler.close();

    const results = jobs.map((job, p) => {
      const stats = emulators[p]!.controls.stats();
      const requests = Object.entries(stats.byProject[clients[p]!.id] ?? {})
        .filter(([endpoint]) => !NOT_API.includes(endpoint))
        .reduce((n, [, c]) => n + c, 0);
      const minimumMs = (requests / spec.qpm) * 60_000;
      const ms = jobMs(job);
      const peak = Math.max(0, ...Object.values(stats.maxPerWindow[clients[p]!.id] ?? {}));
      const rejected = Object.values(stats.quotaRejections).reduce((n, c) => n + c, 0);
      return { status: job?.status ?? JobStatus.UNSPECIFIED, requests, ms, ratio: ms / minimumMs, peak, rejected };
    });
    for (const [p, r] of results.entries()) {
      log(
        `project ${p + 1}: ${statusName(r.status)}, ${r.requests} requests in ${seconds(r.ms)} = ${r.ratio.toFixed(3)} × its minimum; peak ${r.peak} in any 60 s, ${r.rejected} × 429`,
      );
    }
    const requests = results.reduce((n, r) => n + r.requests, 0);
    const worst = Math.max(...results.map((r) => r.ratio));
    const best = Math.min(...results.map((r) => r.ratio));
    const over = results.filter((r) => r.peak > spec.qpm).length;
    const rejected = results.reduce((n, r) => n + r.rejected, 0);
    const fetcherMs = Object.entries(spent)
      .filter(([name]) => name.startsWith("fetcher"))
      .reduce((n, [, ms]) => n + ms, 0);
    const allSucceeded = results.every((r) => r.status === JobStatus.SUCCEEDED);
    const label = `${spec.projects} projects at ${spec.qpm} QPM each, at once, ${spec.fetchers} fetchers`;
    return [
      {
        name: `each project's job vs its own minimum (its requests / GOOGLE_QPM), ${label}`,
        figure: `${count(requests)} requests in ${seconds(wallMs)}; per job ${best.toFixed(3)}–${worst.toFixed(3)} × (${results.filter((r) => r.status === JobStatus.SUCCEEDED).length}/${results.length} SUCCEEDED)`,
        ratio: `${worst.toFixed(3)} × minimum (worst)`,
        target: "≤ 1.05",
        met: allSucceeded && worst <= 1.05,
      },
      {
        name: `60 s windows over Google's quota, the same run`,
        figure: `peak ${Math.max(...results.map((r) => r.peak))} requests in any 60 s (of ${spec.qpm}); ${rejected} × 429`,
        ratio: `${over} projects over`,
        target: "0",
        met: over === 0 && rejected === 0,
      },
      {
        name: `fetchers' CPU per Google request, the same run`,
        figure: `${Object.entries(spent)
          .filter(([n]) => n.startsWith("fetcher"))
          .map(([n, ms]) => `${n} ${seconds(ms)}`)
          .join(", ")}; Postgres ${Number.isNaN(spent.postgres!) ? "n/a" : seconds(spent.postgres!)}`,
        ratio: `${((fetcherMs * 1000) / Math.max(1, requests)).toFixed(0)} µs fetcher CPU per request (${((fetcherMs * 1000) / Math.max(1, reviews)).toFixed(0)} µs per review)`,
      },
    ];
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await stack?.stop().catch(() => undefined);
    const nc = await connect({ servers: nats.url }).catch(() => undefined);
    const jsm = nc ? await jetstreamManager(nc).catch(() => undefined) : undefined;
    if (jsm) await deleteStreams(jsm, streamNames(namespace)).catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await router?.close().catch(() => undefined);
    for (const e of emulators) await e.close().catch(() => undefined);
    await dropDatabase(databaseUrl).catch(() => undefined);
    await nats.close();
    if (failed) log(`services' logs kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
};

/** A job's own time, create → end (the fetcher's clock); NaN when it has not ended. */
function jobMs(job: FetchJob | undefined): number {
  if (!job?.createTime || !job.endTime) return Number.NaN;
  return timestampMs(job.endTime) - timestampMs(job.createTime);
}
