// Cluster drills (`npm run drill -- --cluster`): three nats-servers (Debian's, routes on loopback,
// JetStream on each, own store directories, one cluster name), every stream at R3
// (NATS_REPLICAS=3), two fetchers and a token service given all three servers in NATS_URL. Each
// drill runs one job against a freshly seeded Google and breaks the cluster while it runs:
//  - kill -9 of the FETCH stream's leader (a supervisor starts it again a few seconds later);
//  - kill -9 of the REVIEWS stream's leader (likewise);
//  - a rolling restart of all three nodes, one at a time, each back and caught up before the next;
//  - two nodes down, quorum lost, for 20 s (reduced: 12 s), then back: meanwhile CreateFetchJob
//    must answer UNAVAILABLE with the reason, no service may exit, and the job must resume alone.
// Then, as in every drill, an independent subscriber replays REVIEWS against Google's truth.
import { Code, ConnectError } from "@connectrpc/connect";
import { jetstreamManager } from "@nats-io/jetstream";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { BenchSize } from "./types.js";
import { drillServiceEnv, runDrillSet, sleep, type Drill, type DrillContext, type DrillOptions, type DrillResult } from "./drills.js";
import { createEnvironment, type Environment } from "./harness/environment.js";
import { TERMINAL, waitForJob } from "./harness/jobs.js";
import { startNatsCluster, type NatsCluster, type NatsNode } from "./harness/nats-cluster.js";

/** How long quorum stays lost, and how long a killed leader stays down. */
const OUTAGES: Record<BenchSize, { quorumLossMs: number; leaderDownMs: number }> = {
  full: { quorumLossMs: 20_000, leaderDownMs: 5_000 },
  reduced: { quorumLossMs: 12_000, leaderDownMs: 3_000 },
};

type ClusterDrill = Drill<NatsCluster>;
type Ctx = DrillContext<NatsCluster>;

function allStreams(env: Environment): string[] {
  return [env.names.fetch.stream, env.names.reviews.stream, env.names.deadLetters.stream, env.names.tokenEvents.stream];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** kill -9 of the node leading `stream`; a supervisor brings it back after `leaderDownMs`. */
async function killLeader(ctx: Ctx, stream: string): Promise<void> {
  const { env, infra: cluster, note, background } = ctx;
  const leader = await cluster.leaderOf(env.nats, stream);
  const pid = leader.pid;
  await leader.kill();
  const killedAt = Date.now();
  note(`killed ${leader.name} (pid ${pid}), leader of ${stream}, with SIGKILL`);
  background(
    (async () => {
      const next = await waitForNewLeader(ctx, stream, leader);
      if (next) note(`${stream} elected ${next.name} ${seconds(Date.now() - killedAt)} after the kill`);
      await sleep(Math.max(0, OUTAGES[ctx.size].leaderDownMs - (Date.now() - killedAt)));
      await leader.start();
      note(`restarted ${leader.name} ${seconds(Date.now() - killedAt)} after the kill, on the same store, as a supervisor would`);
      await cluster.waitForStreams(env.nats, allStreams(env));
      note(`${leader.name} caught up: every stream has its leader and current replicas`);
    })(),
  );
}

async function waitForNewLeader(ctx: Ctx, stream: string, old: NatsNode): Promise<NatsNode | undefined> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const leader = await ctx.infra.leaderOf(ctx.env.nats, stream).catch(() => undefined);
    if (leader && leader !== old) return leader;
    await sleep(100);
  }
  ctx.problem(`${stream} elected no new leader within 30 s`);
  return undefined;
}

/** Pages the job has done so far (undefined while nobody answers). */
async function pagesDone(env: Environment, jobId: string): Promise<bigint | undefined> {
  for (let i = 0; i < env.stack.fetcherServices.length; i++) {
    const job = await env.stack
      .fetcherAt(i)
      .getFetchJob({ jobId }, { timeoutMs: 3_000 })
      .then(
        (r) => r.job,
        () => undefined,
      );
    if (job) return job.counters?.pages ?? 0n;
  }
  return undefined;
}

/**
 * CreateFetchJob, asked of both fetchers every second while the quorum is gone (from a few
 * seconds in, when the servers themselves know it): each answer noted once per kind. A job one of
 * them admitted anyway (before the loss showed) runs after the outage and is waited for.
 */
async function askForJobsWhileDown(ctx: Ctx, downAt: number, untilMs: number, admitted: string[]): Promise<void> {
  const { env, note, problem } = ctx;
  let unavailable = 0;
  let firstMessage = "";
  let firstAt = 0;
  const others = new Set<string>();
  while (Date.now() < untilMs - 500) {
    for (let i = 0; i < env.stack.fetcherServices.length; i++) {
      const at = Date.now() - downAt;
      try {
        const created = await env.stack
          .fetcherAt(i)
          .createFetchJob({ target: { case: "clientId", value: env.clientId }, mode: FetchMode.FULL }, { timeoutMs: 10_000 });
        admitted.push(created.jobId);
        note(
          `CreateFetchJob on fetcher-${i + 1} ${seconds(at)} into the outage admitted job ${created.jobId} (the loss did not show yet); it runs once the cluster is back`,
        );
      } catch (err) {
        const e = ConnectError.from(err);
        if (e.code === Code.Unavailable) {
          unavailable++;
          if (!firstMessage) {
            firstMessage = e.rawMessage;
            firstAt = at;
          }
        } else if (!others.has(Code[e.code] ?? String(e.code))) {
          others.add(Code[e.code] ?? String(e.code));
          note(`CreateFetchJob on fetcher-${i + 1} ${seconds(at)} into the outage answered ${Code[e.code]}: ${e.rawMessage}`);
        }
      }
    }
    await sleep(1_000);
  }
  if (unavailable === 0) problem("CreateFetchJob never answered UNAVAILABLE while the quorum was lost");
  else note(`CreateFetchJob answered UNAVAILABLE ${unavailable} times, first ${seconds(firstAt)} into the outage: "${firstMessage}"`);
}

const CLUSTER_DRILLS: ClusterDrill[] = [
  {
    name: "kill -9 of the FETCH leader mid-job",
    strike: (ctx) => killLeader(ctx, ctx.env.names.fetch.stream),
  },
  {
    name: "kill -9 of the REVIEWS leader mid-job",
    strike: (ctx) => killLeader(ctx, ctx.env.names.reviews.stream),
  },
  {
    name: "rolling restart of all three nodes mid-job",
    // slower Google calls: the pages running when the restart begins are still running through
    // the first restarts, so their commits and publishes meet a node going down
    latencyMs: { reduced: 3_000, full: 200 },
    async strike({ env, infra: cluster, note, problem, jobId }) {
      // the job must still be running when the last node goes down: a node's catch-up took 1–2 s
      // on a quiet box and 7 s under the whole test suite, longer than the job's last pages. So
      // the reviews stage is paused for the restart (PauseStage: the pages running finish and
      // publish meanwhile, the rest wait in FETCH through all three restarts) and resumed after
      await env.stack.fetcher.pauseStage({ stage: "reviews" });
      note("reviews stage paused for the restart (running pages finish; the rest wait in FETCH)");
      const started = Date.now();
      try {
        for (const node of cluster.nodes) {
          await node.stop();
          await sleep(500);
          await node.start();
          // as an operator would: the next node goes only once this one has caught up
          await cluster.waitForStreams(env.nats, allStreams(env));
          const job = await env.stack.fetcher.getFetchJob({ jobId }, { timeoutMs: 5_000 }).then(
            (r) => r.job,
            () => undefined,
          );
          const status = job ? JobStatus[job.status] : "unknown";
          note(
            `${node.name} restarted (SIGTERM, up again) and caught up, ${seconds(Date.now() - started)} into the rolling restart; job ${status}`,
          );
          if (node !== cluster.nodes[cluster.nodes.length - 1] && job && TERMINAL.has(job.status)) {
            problem(`the job ended before the rolling restart reached the last node: not a mid-job restart (make the job longer)`);
            break;
          }
        }
      } finally {
        await env.stack.fetcher.resumeStage({ stage: "reviews" });
      }
    },
  },
  {
    name: "two nodes down (quorum lost), then back",
    async strike(ctx) {
      const { env, infra: cluster, note, problem, background } = ctx;
      const outageMs = OUTAGES[ctx.size].quorumLossMs;
      const leader = await cluster.leaderOf(env.nats, env.names.fetch.stream);
      const down = [leader, ...cluster.nodes.filter((n) => n !== leader)].slice(0, 2);
      for (const node of down) await node.kill();
      const downAt = Date.now();
      note(
        `killed ${down.map((n) => n.name).join(" and ")} (the FETCH leader among them) with SIGKILL: 1 of 3 nodes left, no quorum, for ${seconds(outageMs)}`,
      );
      const before = await pagesDone(env, ctx.jobId);
      const admitted: string[] = [];
      await sleep(3_000);
      await askForJobsWhileDown(ctx, downAt, downAt + outageMs, admitted);
      for (const service of [env.stack.tokenService, ...env.stack.fetcherServices]) {
        if (!service.running()) problem(`${service.name} exited while the quorum was lost`);
      }
      await sleep(Math.max(0, downAt + outageMs - Date.now()));
      const during = await pagesDone(env, ctx.jobId);
      for (const node of down) await node.start();
      const backAt = Date.now();
      note(
        `${down.map((n) => n.name).join(" and ")} started again ${seconds(backAt - downAt)} after the kill; job pages ${before ?? "?"} before the outage, ${during ?? "?"} at its end`,
      );
      background(
        (async () => {
          // resuming needs nobody: no restart, no replay, no call
          const deadline = Date.now() + 120_000;
          for (;;) {
            const pages = await pagesDone(env, ctx.jobId);
            const job = await env.stack.fetcher.getFetchJob({ jobId: ctx.jobId }, { timeoutMs: 3_000 }).then(
              (r) => r.job,
              () => undefined,
            );
            if ((pages !== undefined && during !== undefined && pages > during) || (job && TERMINAL.has(job.status))) {
              note(`work resumed by itself ${seconds(Date.now() - backAt)} after the nodes were back (job pages ${pages})`);
              break;
            }
            if (Date.now() > deadline) {
              problem("work did not resume within 120 s of the nodes coming back");
              break;
            }
            await sleep(200);
          }
          await cluster.waitForStreams(env.nats, allStreams(env));
          for (const jobId of admitted) {
            const waited = await waitForJob(jobId, { timeoutMs: 120_000, client: () => env.stack.fetcher });
            note(`job ${jobId}, admitted during the outage, ended ${waited.job ? JobStatus[waited.job.status] : "unknown"}`);
          }
        })(),
      );
    },
  },
];

/** Runs every cluster drill on a three-node cluster of its own; the drills share one set of services. */
export async function runClusterDrills(options: DrillOptions): Promise<DrillResult[]> {
  const log = options.log ?? (() => undefined);
  const cluster = await startNatsCluster({ size: 3 });
  log(`own nats cluster "${cluster.name}": ${cluster.nodes.map((n) => `${n.name} on port ${n.port}`).join(", ")}`);
  const set = {
    infra: cluster,
    close: () => cluster.close(),
    seedBase: 8_000,
    // every drill starts on the whole cluster, caught up
    async beforeEach(env: Environment) {
      for (const node of cluster.nodes) if (!node.running) await node.start();
      await cluster.waitForStreams(env.nats, allStreams(env));
    },
  };
  return runDrillSet(options, CLUSTER_DRILLS, set, async () => {
    const started = Date.now();
    const env = await createEnvironment({
      label: "cdrill",
      natsUrl: cluster.url,
      emulator: { seed: "tiny" },
      switchableGoogle: true,
      stack: { fetchers: 2, env: { ...drillServiceEnv(options.size), NATS_REPLICAS: "3" } },
    });
    const jsm = await jetstreamManager(env.nats);
    const replicas = await Promise.all(allStreams(env).map(async (s) => `${s} R${(await jsm.streams.info(s)).config.num_replicas}`));
    log(
      `token service and two fetchers up in ${seconds(Date.now() - started)} (NATS_URL lists the 3 servers; streams ${replicas.join(", ")}; logs: ${env.logDir})`,
    );
    return env;
  });
}
