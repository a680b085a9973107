// Fault drills: one fetch job per drill, broken on purpose while it runs, then the REVIEWS stream
// read from the start and compared with what Google (the emulator) holds. The goal in every
// drill: 0 lost, 0 duplicated, the job finished.
import pg from "pg";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { SeedSpec } from "../emulator/index.js";
import type { BenchSize } from "./types.js";
import { createEnvironment, type Environment } from "./harness/environment.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer, type NatsServer } from "./harness/nats-server.js";
import { readAllReviews, reviewsStored } from "./harness/review-count.js";

export interface DrillResult {
  name: string;
  expected: number;
  /** Distinct reviews delivered (CREATED events). */
  delivered: number;
  /** Messages on REVIEWS, duplicates included. */
  total: number;
  lost: number;
  duplicated: number;
  jobStatus: string;
  finished: boolean;
  ms: number;
  /** What was done and seen, in order. */
  notes: string[];
}

interface DrillContext {
  env: Environment;
  nats: NatsServer;
  note(line: string): void;
  /** Work that may go on while the job runs (a restart); awaited before the next drill. */
  background(work: Promise<unknown>): void;
}

interface Drill {
  name: string;
  /** Runs before the job starts (e.g. faults that last the whole job). */
  setup?(ctx: DrillContext): Promise<void>;
  /** Breaks something once the job is under way. */
  strike?(ctx: DrillContext): Promise<void>;
  /** Which fetcher to ask about the job (a killed one cannot answer). */
  askFetcher?: number;
}

const DRILLS: Drill[] = [
  {
    name: "kill -9 of a fetcher mid-job",
    askFetcher: 1,
    async strike({ env, note, background }) {
      const victim = env.stack.fetcherServices[0]!;
      await env.stack.killFetcher(0);
      note(`killed ${victim.name} (pid ${victim.pid}) with SIGKILL; fetcher-2 carries on`);
      // a supervisor restarts it a second later; the job does not wait for that
      background(
        sleep(1_000)
          .then(() => env.stack.startFetcher(0))
          .then(() => note(`restarted ${victim.name}, as a supervisor would`)),
      );
    },
  },
  {
    name: "NATS restart mid-job",
    async strike({ nats, note }) {
      await nats.restart(1_000);
      note("nats-server stopped, down 1 s, started again on the same store");
    },
  },
  {
    name: "Postgres connections cut mid-job",
    async strike({ env, note }) {
      for (let round = 1; round <= 2; round++) {
        const cut = await terminateConnections(env.databaseUrl);
        note(`pg_terminate_backend: ${cut} connections cut (round ${round})`);
        await sleep(400);
      }
    },
  },
  {
    name: "10% Google 5xx",
    async setup({ env, note }) {
      env.emulator.controls.addFault({ kind: "error", status: 503, rate: 0.1 });
      note("every Google API endpoint answers 503 to 10% of requests");
    },
  },
];

const SIZES: Record<BenchSize, { seed: SeedSpec; latencyMs: number; concurrency: string; timeoutMs: number }> = {
  // long enough that "mid-job" is mid-job at two tasks per stage, small enough for the test suite
  reduced: { seed: { accounts: 1, locationsPerAccount: 12, reviewsPerLocation: [10, 70] }, latencyMs: 120, concurrency: "2", timeoutMs: 90_000 },
  full: { seed: { accounts: 3, locationsPerAccount: 100, reviewsPerLocation: [0, 200] }, latencyMs: 50, concurrency: "8", timeoutMs: 600_000 },
};

function timestampMs(t: { seconds: bigint; nanos: number }): number {
  return Number(t.seconds) * 1000 + Math.round(t.nanos / 1e6);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function terminateConnections(databaseUrl: string): Promise<number> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const res = await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
    return res.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** Every drill runs on one set of services (two fetchers) with a freshly seeded Google of its own. */
async function openDrillEnvironment(nats: NatsServer, size: BenchSize): Promise<Environment> {
  const spec = SIZES[size];
  return createEnvironment({
    label: "drill",
    natsUrl: nats.url,
    emulator: { seed: "tiny" },
    switchableGoogle: true,
    stack: {
      fetchers: 2,
      env: {
        GOOGLE_QPM: "1000000",
        FETCH_CONCURRENCY: spec.concurrency,
        FETCH_ACK_WAIT_MS: "2000",
        FETCH_MAX_DELIVER: "20",
        FETCH_RETRY_BASE_MS: "100",
        FETCH_RETRY_MAX_MS: "2000",
        FETCH_POLL_MS: "200",
        GOOGLE_TIMEOUT_MS: "5000",
        JOB_STALL_TIMEOUT_SECONDS: "120",
      },
    },
  });
}

async function runDrill(drill: Drill, index: number, env: Environment, nats: NatsServer, size: BenchSize, log: (line: string) => void): Promise<DrillResult> {
  const spec = SIZES[size];
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    log(`  ${line}`);
  };
  log(`drill: ${drill.name}`);
  try {
    // a different seed per drill: new accounts, locations and reviews, so nothing is "unchanged"
    await env.switchGoogle({ seed: { ...spec.seed, seed: 7_000 + index }, quotaPerMinute: 1_000_000 }, `drill-${index + 1}`);
    const pending: Promise<unknown>[] = [];
    const ctx: DrillContext = { env, nats, note, background: (work) => pending.push(work) };
    const expected = env.emulator.controls.data().totalReviews;
    env.emulator.controls.addFault({ kind: "latency", latencyMs: spec.latencyMs });
    await drill.setup?.(ctx);
    const started = Date.now();
    const created = await env.stack.fetcher.createFetchJob({ target: { case: "clientId", value: env.clientId }, mode: FetchMode.FULL });
    note(`job ${created.jobId} created: ${expected} reviews at Google`);
    if (drill.strike) {
      // strike once a fifth of the reviews are out: the job is well under way, far from done
      const threshold = Math.max(1, Math.floor(expected / 5));
      for (;;) {
        const stored = await reviewsStored(env.nats, env.names).catch(() => 0);
        if (stored >= threshold) {
          note(`${stored}/${expected} reviews published when the fault struck`);
          break;
        }
        const job = await env.stack.fetcher.getFetchJob({ jobId: created.jobId }).catch(() => undefined);
        if (job?.job && job.job.status !== JobStatus.QUEUED && job.job.status !== JobStatus.RUNNING) {
          note(`the job ended (${statusName(job.job.status)}) before the fault could strike`);
          break;
        }
        await sleep(50);
      }
      await drill.strike(ctx);
    }
    const askFetcher = drill.askFetcher ?? 0;
    const waited = await waitForJob(created.jobId, { timeoutMs: spec.timeoutMs, client: () => env.stack.fetcherAt(askFetcher) });
    // the job's own clock: from admission to its end (the harness's waiting is not the job's time)
    const job = waited.job;
    const ms = job?.createTime && job.endTime ? timestampMs(job.endTime) - timestampMs(job.createTime) : Date.now() - started;
    await Promise.all(pending);
    const counters = waited.job?.counters;
    if (counters) note(`job counters: ${counters.pages} pages, ${counters.retries} retries, ${counters.deadLettered} dead-lettered`);
    if (!waited.ended) note(`job did not end within ${spec.timeoutMs / 1000} s${waited.lastError ? ` (last error: ${waited.lastError})` : ""}`);
    const tally = await readAllReviews(env.nats, env.names);
    const delivered = tally.uniqueCreated;
    return {
      name: drill.name,
      expected,
      delivered,
      total: tally.total,
      lost: Math.max(0, expected - delivered),
      duplicated: tally.total - tally.uniqueEvents,
      jobStatus: waited.job ? statusName(waited.job.status) : "unknown",
      finished: waited.ended,
      ms,
      notes,
    };
  } catch (err) {
    note(`drill failed: ${(err as Error).message} (service logs: ${env.logDir})`);
    throw err;
  } finally {
    env.emulator.controls.clearFaults();
  }
}

export interface DrillOptions {
  size: BenchSize;
  log?: (line: string) => void;
  /** Run only drills whose name contains this. */
  only?: string;
}

/** Runs every drill on a nats-server of its own; each drill gets its own database and services. */
export async function runDrills(options: DrillOptions): Promise<DrillResult[]> {
  const log = options.log ?? (() => undefined);
  const nats = await startNatsServer();
  log(`own nats-server on port ${nats.port}`);
  const results: DrillResult[] = [];
  let env: Environment | undefined;
  let broke = false;
  try {
    const selected = DRILLS.filter((d) => !options.only || d.name.includes(options.only));
    if (selected.length === 0) return results;
    const setupStarted = Date.now();
    env = await openDrillEnvironment(nats, options.size);
    log(`token service and two fetchers up in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s (logs: ${env.logDir})`);
    for (const [index, drill] of selected.entries()) results.push(await runDrill(drill, index, env, nats, options.size, log));
  } catch (err) {
    broke = true;
    throw err;
  } finally {
    // the services' logs stay for reading when a drill missed its goal or broke
    const clean = !broke && results.every((r) => r.finished && r.lost === 0 && r.duplicated === 0 && r.jobStatus === "SUCCEEDED");
    await env?.close({ keepLogs: !clean });
    if (env && !clean) log(`service logs kept in ${env.logDir}`);
    await nats.close();
  }
  return results;
}
