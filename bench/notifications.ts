// The review-notification benchmark (figures only, nothing asserted): how soon an edit at Google
// becomes its UPDATED event on REVIEWS through push (the emulator POSTs a signed push request to
// the gateway's /google/pubsub/push; the fetcher turns it into a one-review pass), for edits at
// 10 a second, next to what the schedule alone gives at the same quota.
//
// One emulator (its own project and quota), the services as child processes (harness/stack.ts)
// with GOOGLE_PUBSUB_TOPIC set, so connecting the client sets the account's notification setting
// (TOKEN_EVENTS connected → the reconciler); the scheduler is off, so every event is a
// notification's. Each edit changes the comment of a distinct review to a unique text and is timed
// from the edit call to the event on an ordered consumer of REVIEWS (matched by comment).
// The schedule's figure is computed, not measured: with N locations and one reviews.list per
// pass, GOOGLE_QPM q allows one uniform interval of N·60/q s, and an edit waits half of it on
// average (the Sync scheduler section measures the real thing, adaptive intervals included).
// Pull is not measured here (Google's Pub/Sub emulator adds a JVM; test/notifications.test.ts
// covers its path).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { startGoogleEmulator, type GoogleEmulator } from "../emulator/index.js";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventType } from "../gen/reviewflow/reviews/v1/events_pb.js";
import { dropDatabase } from "../lib/db/index.js";
import { deleteStreams, streamNames } from "../lib/nats/index.js";
import { connectThroughConsent } from "../scripts/support/consent.js";
import { seedDemo } from "../scripts/support/demo-seed.js";
import { tailReviews } from "../scripts/support/review-tail.js";
import { scratchDatabaseUrl } from "./harness/environment.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer } from "./harness/nats-server.js";
import { startStack, type Stack } from "./harness/stack.js";
import { count } from "./harness/table.js";
import type { BenchFn, BenchSize } from "./types.js";

interface Sizes {
  locations: number;
  reviewsPerLocation: number;
  /** Edits timed (BENCH_NOTIFY_EDITS overrides). */
  edits: number;
  perSecond: number;
  qpm: number;
}

const SIZES: Record<BenchSize, Sizes> = {
  // 1,000 edits at 10/s take 100 s plus the stack; 300 keep the section near a minute
  full: { locations: 20, reviewsPerLocation: 50, edits: 300, perSecond: 10, qpm: 1_200 },
  reduced: { locations: 2, reviewsPerLocation: 10, edits: 10, perSecond: 10, qpm: 1_200 },
};
const TOPIC = "projects/reviewflow-bench/topics/reviews";
const AUDIENCE = "https://reviewflow-bench.example/google/pubsub/push";
const SERVICE_ACCOUNT = "pubsub-push@reviewflow-bench.iam.gserviceaccount.com";
const CLIENT = { id: "notify-bench.apps.googleusercontent.com", secret: "notify-bench-secret" };

export const runNotificationsBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec: Sizes = { ...SIZES[size], ...(process.env.BENCH_NOTIFY_EDITS ? { edits: Number(process.env.BENCH_NOTIFY_EDITS) } : {}) };
  const nats = await startNatsServer();
  const logDir = mkdtempSync(path.join(os.tmpdir(), "rf-bench-notify-"));
  const databaseUrl = scratchDatabaseUrl("bench-notify");
  const namespace = `notify${randomBytes(3).toString("hex")}`;
  let emulator: GoogleEmulator | undefined;
  let stack: Stack | undefined;
  const nc = await connect({ servers: nats.url, name: "bench-notify" });
  try {
    emulator = await startGoogleEmulator({
      port: 0,
      seed: {
        accounts: 1,
        locationsPerAccount: spec.locations,
        reviewsPerLocation: [spec.reviewsPerLocation, spec.reviewsPerLocation],
        seed: 20261202,
      },
      clients: [CLIENT],
      autoApprove: true,
      quotaPerMinute: spec.qpm,
    });
    stack = await startStack({
      databaseUrl,
      natsUrl: nats.url,
      namespace,
      googleUrl: emulator.url,
      gateway: true,
      logDir,
      env: {
        SYNC_ENABLED: "false",
        GOOGLE_QPM: String(spec.qpm),
        FETCH_POLL_MS: "100",
        LOG_LEVEL: "warn",
        GOOGLE_PUBSUB_TOPIC: TOPIC,
        PUBSUB_PUSH_AUDIENCE: AUDIENCE,
        PUBSUB_PUSH_SERVICE_ACCOUNT: SERVICE_ACCOUNT,
        GOOGLE_JWKS_URL: `${emulator.url}/oauth2/v3/certs`,
      },
    });
    emulator.controls.configureNotifications({
      push_endpoint: `${stack.gatewayUrl}/google/pubsub/push`,
      push_audience: AUDIENCE,
      push_service_account: SERVICE_ACCOUNT,
    });
    const seeded = await seedDemo(stack.token, {
      tenantName: "notify bench",
      clientName: "notify bench",
      googleClientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      redirectUri: "http://127.0.0.1:9/auth/callback",
      branches: [],
    });
    await connectThroughConsent(stack.token, seeded.client.id, { completeVia: "token-service" });
    const { jobId } = await stack.fetcher.createFetchJob({ target: { case: "clientId", value: seeded.client.id }, mode: FetchMode.FULL });
    const { job } = await waitForJob(jobId, { timeoutMs: 300_000, client: () => stack!.fetcher, intervalMs: 100 });
    if (job?.status !== JobStatus.SUCCEEDED) throw new Error(`the first full fetch ended ${job ? statusName(job.status) : "unknown"}`);
    const deadline = Date.now() + 30_000;
    while (!emulator.controls.notifications().settings.some((s) => s.pubsubTopic === TOPIC)) {
      if (Date.now() > deadline) throw new Error("the reconciler did not set the account's notification setting within 30 s of connecting");
      await sleep(100);
    }
    log(
      `${spec.locations} locations × ${spec.reviewsPerLocation} reviews fetched; the account's setting names ${TOPIC}; ${spec.edits} edits at ${spec.perSecond}/s, GOOGLE_QPM ${spec.qpm}`,
    );

    const token = emulator.controls.issueTokens({ client_id: CLIENT.id }).access_token;
    const reviews: string[] = [];
    for (const l of emulator.controls.data().accounts[0]!.locations) reviews.push(...(await reviewNames(emulator.url, token, l.parent)));
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const tail = await tailReviews({
      connection: nc,
      names: streamNames(namespace),
      onEvent: (event) => {
        const at = sentAt.get(event.review?.comment ?? "");
        if (at === undefined || event.type !== ReviewEventType.UPDATED) return;
        sentAt.delete(event.review!.comment!);
        latencies.push(Date.now() - at);
      },
    });
    const started = Date.now();
    for (let i = 0; i < spec.edits; i++) {
      const due = started + (i * 1000) / spec.perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      const comment = `bench edit ${i} ${randomBytes(4).toString("hex")}`;
      sentAt.set(comment, Date.now());
      emulator.controls.editReview({ name: reviews[i % reviews.length]!, comment });
    }
    const drainUntil = Date.now() + 60_000;
    while (sentAt.size > 0 && Date.now() < drainUntil) await sleep(100);
    await tail.stop();
    const missed = sentAt.size;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! / 1000 : NaN;
    const scheduleInterval = (spec.locations * 60) / spec.qpm;
    const at1000 = (1000 * 60) / spec.qpm;
    const counters = emulator.controls.notifications().counters;
    log(
      `pushed ${counters.pushed}, push failures ${counters.push_failures}; reviews.get ${emulator.controls.stats().requests["reviews.get"] ?? 0}`,
    );
    return [
      {
        name: `change → event through push, ${count(spec.edits)} edits at ${spec.perSecond}/s (${spec.locations} locations, GOOGLE_QPM ${count(spec.qpm)})`,
        figure: `p50 ${fmt(pct(0.5))} s, p95 ${fmt(pct(0.95))} s, max ${fmt(pct(1))} s (${count(latencies.length)} seen${missed ? `, ${missed} never seen` : ""})`,
      },
      {
        name: `schedule alone at the same quota (computed: N·60/q per pass, half of it waited on average), ${spec.locations} locations / 1,000 locations`,
        figure: `mean ${fmt(scheduleInterval / 2)} s / ${fmt(at1000 / 2)} s (one pass every ${fmt(scheduleInterval)} s / ${fmt(at1000)} s per location)`,
        ratio: latencies.length ? `${fmt(at1000 / 2 / pct(0.5))} × push p50 at 1,000 locations` : undefined,
      },
    ];
  } finally {
    await stack?.stop().catch(() => undefined);
    await emulator?.close().catch(() => undefined);
    const jsm = await (await import("@nats-io/jetstream")).jetstreamManager(nc).catch(() => undefined);
    if (jsm) await deleteStreams(jsm, streamNames(namespace)).catch(() => undefined);
    await nc.close().catch(() => undefined);
    await nats.close();
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(logDir, { recursive: true, force: true });
  }
};

/** The review names of one location at Google (its first page, read as the product reads it). */
async function reviewNames(base: string, token: string, parent: string): Promise<string[]> {
  const res = await fetch(`${base}/v4/${parent}/reviews?pageSize=50`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { reviews?: { name: string }[] };
  return (body.reviews ?? []).map((r) => r.name);
}

function fmt(n: number): string {
  return Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : "–";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
