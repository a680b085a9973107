// Fault drills: one fetch job per drill, broken on purpose while it runs, then the REVIEWS stream
// read from the start by an independent subscriber and compared with what Google (the emulator)
// holds. The goal in every drill: 0 lost, 0 duplicated, the job finished. The single-node drills
// are here; the cluster drills (three nats-servers, R3 streams) are in cluster-drills.ts, on the
// same runner.
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { SeedSpec } from "../emulator/index.js";
import type { BenchSize } from "./types.js";
import { createEnvironment, type Environment } from "./harness/environment.js";
import { compareWithGoogle } from "./harness/google-truth.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer, type NatsServer } from "./harness/nats-server.js";
import { readAllReviews, reviewsStored } from "./harness/review-count.js";

export interface DrillResult {
  name: string;
  /** Reviews Google holds. */
  expected: number;
  /** Of those, how many an independent subscriber replaying REVIEWS holds. */
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
  /** What went wrong besides lost or duplicated reviews (a service that died, an answer that never came). */
  problems: string[];
}

export interface DrillContext<Infra> {
  env: Environment;
  /** What the drill breaks: a nats-server, a cluster. */
  infra: Infra;
  size: BenchSize;
  /** The drill's job (empty during setup). */
  jobId: string;
  note(line: string): void;
  problem(line: string): void;
  /** Work that may go on while the job runs (a restart); awaited before the REVIEWS stream is read. */
  background(work: Promise<unknown>): void;
}

export interface Drill<Infra> {
  name: string;
  /** Runs before the job starts (e.g. faults that last the whole job). */
  setup?(ctx: DrillContext<Infra>): Promise<void>;
  /** Breaks something once the job is under way. */
  strike?(ctx: DrillContext<Infra>): Promise<void>;
  /** Which fetcher to ask about the job (a killed one cannot answer). */
  askFetcher?: number;
  /** Google's latency per call instead of the size's (a longer job, for a strike that takes a while). */
  latencyMs?: Partial<Record<BenchSize, number>>;
}

/** 0 lost, 0 duplicated, every job finished SUCCEEDED, nothing else went wrong. */
export function drillsMetGoal(results: DrillResult[]): boolean {
  return results.every((r) => r.lost === 0 && r.duplicated === 0 && r.finished && r.jobStatus === "SUCCEEDED" && r.problems.length === 0);
}

const DRILLS: Drill<NatsServer>[] = [
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
    async strike({ infra: nats, note }) {
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

export const DRILL_SIZES: Record<BenchSize, { seed: SeedSpec; latencyMs: number; concurrency: string; timeoutMs: number }> = {
  // long enough that "mid-job" is mid-job at two tasks per stage, small enough for the test suite
  reduced: {
    seed: { accounts: 1, locationsPerAccount: 12, reviewsPerLocation: [10, 70] },
    latencyMs: 120,
    concurrency: "2",
    timeoutMs: 90_000,
  },
  full: {
    seed: { accounts: 3, locationsPerAccount: 100, reviewsPerLocation: [0, 200] },
    latencyMs: 50,
    concurrency: "8",
    timeoutMs: 600_000,
  },
};

function timestampMs(t: { seconds: bigint; nanos: number }): number {
  return Number(t.seconds) * 1000 + Math.round(t.nanos / 1e6);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function terminateConnections(databaseUrl: string): Promise<number> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const res = await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [name],
    );
    return res.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** The services' settings in every drill: short ack wait, quick retries, no quota to wait for. */
export function drillServiceEnv(size: BenchSize): Record<string, string> {
  return {
    GOOGLE_QPM: "1000000",
    FETCH_CONCURRENCY: DRILL_SIZES[size].concurrency,
    FETCH_ACK_WAIT_MS: "2000",
    FETCH_MAX_DELIVER: "20",
    FETCH_RETRY_BASE_MS: "100",
    FETCH_RETRY_MAX_MS: "2000",
    FETCH_POLL_MS: "200",
    GOOGLE_TIMEOUT_MS: "5000",
    JOB_STALL_TIMEOUT_SECONDS: "120",
  };
}

/** Every drill runs on one set of services (two fetchers) with a freshly seeded Google of its own. */
async function openDrillEnvironment(nats: NatsServer, size: BenchSize): Promise<Environment> {
  return createEnvironment({
    label: "drill",
    natsUrl: nats.url,
    emulator: { seed: "tiny" },
    switchableGoogle: true,
    stack: { fetchers: 2, env: drillServiceEnv(size) },
  });
}

/**
 * One drill: a freshly seeded Google (seed `seedBase + index`) behind the same services, a full
 * job, the strike once a fifth of the reviews are out, the job waited for, then REVIEWS replayed
 * from the start and compared with Google.
 */
export async function runDrill<Infra>(
  drill: Drill<Infra>,
  index: number,
  env: Environment,
  infra: Infra,
  size: BenchSize,
  log: (line: string) => void,
  seedBase = 7_000,
): Promise<DrillResult> {
  const spec = DRILL_SIZES[size];
  const notes: string[] = [];
  const problems: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    log(`  ${line}`);
  };
  const problem = (line: string) => {
    problems.push(line);
    note(`PROBLEM: ${line}`);
  };
  log(`drill: ${drill.name}`);
  try {
    // a different seed per drill: new accounts, locations and reviews, so nothing is "unchanged"
    await env.switchGoogle({ seed: { ...spec.seed, seed: seedBase + index }, quotaPerMinute: 1_000_000 }, `drill-${index + 1}`);
    const pending: Promise<unknown>[] = [];
    const ctx: DrillContext<Infra> = { env, infra, size, jobId: "", note, problem, background: (work) => pending.push(work) };
    const expected = env.emulator.controls.data().totalReviews;
    env.emulator.controls.addFault({ kind: "latency", latencyMs: drill.latencyMs?.[size] ?? spec.latencyMs });
    await drill.setup?.(ctx);
    const before = await reviewsStored(env.nats, env.names);
    const started = Date.now();
    const created = await createJob(env, note);
    ctx.jobId = created.jobId;
    note(`job ${created.jobId} created: ${expected} reviews at Google`);
    if (drill.strike) {
      // strike once a fifth of the reviews are out: the job is well under way, far from done
      const threshold = Math.max(1, Math.floor(expected / 5));
      for (;;) {
        // REVIEWS also holds the earlier drills' events (it is not purged between them)
        const stored = (await reviewsStored(env.nats, env.names).catch(() => before)) - before;
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
    if (!waited.ended)
      note(`job did not end within ${spec.timeoutMs / 1000} s${waited.lastError ? ` (last error: ${waited.lastError})` : ""}`);
    // nothing may have crashed: the harness restarts only what a drill kills on purpose
    for (const service of [env.stack.tokenService, ...env.stack.fetcherServices]) {
      if (!service.running()) problem(`${service.name} is not running: it exited during the drill (logs: ${env.logDir})`);
    }
    // Google's truth is read without the drill's faults (a 5xx or latency there is not the product's)
    env.emulator.controls.clearFaults();
    const { extra, ...counts } = await compareWithGoogle(env, await readAllReviews(env.nats, env.names, 30_000, env.clientId));
    if (extra) problem(`${extra} reviews live on REVIEWS that Google does not hold`);
    return {
      name: drill.name,
      ...counts,
      jobStatus: waited.job ? statusName(waited.job.status) : "unknown",
      finished: waited.ended,
      ms,
      notes,
      problems,
    };
  } catch (err) {
    note(`drill failed: ${(err as Error).message} (service logs: ${env.logDir})`);
    throw err;
  } finally {
    env.emulator.controls.clearFaults();
  }
}

/**
 * The drill's job, created as a client that reads UNAVAILABLE's "retry in a few seconds" would:
 * after a node of a cluster came back, a consumer of FETCH can be without a leader for a moment
 * even though every stream and consumer had one and a current quorum just before (seen once:
 * "consumer fetch-accounts has no leader"). Up to 30 s, then the answer stands.
 */
async function createJob(env: Environment, note: (line: string) => void) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await env.stack.fetcher.createFetchJob({ target: { case: "clientId", value: env.clientId }, mode: FetchMode.FULL });
    } catch (err) {
      if (!(err instanceof ConnectError) || err.code !== Code.Unavailable || Date.now() > deadline) throw err;
      note(`CreateFetchJob answered UNAVAILABLE (${err.rawMessage}); retrying in 1 s`);
      await sleep(1_000);
    }
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
  return runDrillSet(options, DRILLS, { infra: nats, close: () => nats.close(), seedBase: 7_000 }, async () => {
    const started = Date.now();
    const env = await openDrillEnvironment(nats, options.size);
    log(`token service and two fetchers up in ${((Date.now() - started) / 1000).toFixed(1)} s (logs: ${env.logDir})`);
    return env;
  });
}

export interface DrillSet<Infra> {
  infra: Infra;
  /** Stops the infrastructure (after the services). */
  close(): Promise<void>;
  /** Each drill's Google seed is this plus its index. */
  seedBase: number;
  /** Readies the infrastructure before each drill (e.g. every node up and caught up). */
  beforeEach?(env: Environment): Promise<void>;
}

/**
 * Runs the selected drills one after the other on one set of services (`open`), then closes it
 * all; the services' logs stay for reading when a drill missed its goal or broke.
 */
export async function runDrillSet<Infra>(
  options: DrillOptions,
  drills: Drill<Infra>[],
  set: DrillSet<Infra>,
  open: () => Promise<Environment>,
): Promise<DrillResult[]> {
  const log = options.log ?? (() => undefined);
  const results: DrillResult[] = [];
  let env: Environment | undefined;
  let broke = false;
  try {
    const selected = drills.filter((d) => !options.only || d.name.includes(options.only));
    if (selected.length === 0) return results;
    env = await open();
    for (const [index, drill] of selected.entries()) {
      await set.beforeEach?.(env);
      results.push(await runDrill(drill, index, env, set.infra, options.size, log, set.seedBase));
    }
  } catch (err) {
    broke = true;
    throw err;
  } finally {
    const clean = !broke && drillsMetGoal(results);
    await env?.close({ keepLogs: !clean });
    if (env && !clean) log(`service logs kept in ${env.logDir}`);
    await set.close();
  }
  return results;
}
