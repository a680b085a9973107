// Two deployments on one NATS, each with its own database and DEFAULT settings (no
// NATS_NAMESPACE): each derives its work streams' namespace from its database, so neither can
// take the other's work; both complete their jobs with every review delivered once, on the
// shared REVIEWS stream under DESIGN.md's name, each on its own clients' subjects.
// And a task whose job a deployment does not know (another deployment's, on a namespace shared
// by mistake) is never acked away: it is left for its owner, then dead-lettered with UNKNOWN_JOB.
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import { FetchMode } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { DeadLetterSchema, FetchAccountsTaskSchema } from "../gen/reviewflow/reviews/v1/tasks_pb.js";
import { createEnvironment, type Environment } from "../bench/harness/environment.js";
import { compareWithGoogle } from "../bench/harness/google-truth.js";
import { statusName, waitForJob } from "../bench/harness/jobs.js";
import { natsServerBinary } from "../bench/harness/nats-server.js";
import { readAllReviews } from "../bench/harness/review-count.js";
import { deploymentNamespace } from "../lib/config/index.js";
import { decodeMessage, TYPE_HEADER } from "../lib/nats/index.js";
import { TEST_NATS_URL } from "./helpers/streams.js";

describe("deployments sharing one NATS (default settings)", function () {
  this.timeout(180_000);
  const deployments: Environment[] = [];

  before(async function () {
    if (!natsServerBinary()) return this.skip();
    // two deployments as a new user would run them: nothing but a DATABASE_URL of their own
    const open = (label: string, seed: number) =>
      createEnvironment({
        label,
        natsUrl: TEST_NATS_URL,
        defaultNamespace: true,
        emulator: { seed: { accounts: 1, locationsPerAccount: 6, reviewsPerLocation: [5, 60], seed } },
        stack: {
          env: { FETCH_ACK_WAIT_MS: "1000", FETCH_MAX_DELIVER: "4", FETCH_POLL_MS: "100", GOOGLE_QPM: "1000000", LOG_LEVEL: "warn" },
        },
      });
    deployments.push(...(await Promise.all([open("deploya", 11), open("deployb", 12)])));
  });
  after(async function () {
    this.timeout(60_000);
    await Promise.all(deployments.map((d) => d.close()));
  });

  it("gives each its own namespace, derived from its database", () => {
    const [a, b] = deployments;
    assert.equal(a!.namespace, deploymentNamespace(a!.databaseUrl));
    assert.equal(b!.namespace, deploymentNamespace(b!.databaseUrl));
    assert.notEqual(a!.namespace, b!.namespace);
    assert.match(a!.names.fetch.stream, /^rf_[0-9a-f]{8}_FETCH$/);
    assert.equal(a!.names.reviews.stream, "REVIEWS", "the public stream keeps DESIGN.md's name");
  });

  it("completes each one's jobs at the same time, every review delivered once on its own clients' subjects of REVIEWS", async () => {
    const jobs = await Promise.all(
      deployments.map(async (d) => {
        const created = await d.stack.fetcher.createFetchJob({ target: { case: "clientId", value: d.clientId }, mode: FetchMode.FULL });
        return { d, jobId: created.jobId };
      }),
    );
    for (const { d, jobId } of jobs) {
      const waited = await waitForJob(jobId, { timeoutMs: 120_000, client: () => d.stack.fetcher });
      assert.ok(waited.ended, `${d.namespace}: job ${jobId} did not end (${waited.lastError ?? ""})`);
      assert.equal(statusName(waited.job!.status), "SUCCEEDED", `${d.namespace}: ${waited.job?.error}`);
      assert.equal(waited.job!.counters?.deadLettered, 0n);
      const compared = await compareWithGoogle(d, await readAllReviews(d.nats, d.names, 30_000, d.clientId));
      assert.ok(compared.expected > 0);
      assert.deepEqual(
        compared,
        { expected: compared.expected, delivered: compared.expected, total: compared.expected, lost: 0, duplicated: 0, extra: 0 },
        d.namespace,
      );
    }
  });

  it("leaves a task of a job it does not know for its owner, then dead-letters it with UNKNOWN_JOB and the reason", async () => {
    const d = deployments[0]!;
    const jsm: JetStreamManager = await jetstreamManager(d.nats);
    const foreignJob = "00000000-0000-4000-8000-0000000000aa";
    const h = headers();
    h.set(TYPE_HEADER, FetchAccountsTaskSchema.typeName);
    d.nats.publish(
      d.names.fetch.subject("accounts"),
      toBinary(FetchAccountsTaskSchema, create(FetchAccountsTaskSchema, { jobId: foreignJob })),
      { headers: h },
    );
    // not acked on sight: once delivered a second time (handed back), it is still on FETCH
    const accounts = () => jsm.consumers.info(d.names.fetch.stream, d.names.fetch.consumer("accounts"));
    let consumer = await accounts();
    for (let i = 0; i < 150 && consumer.delivered.consumer_seq < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      consumer = await accounts();
    }
    assert.ok(consumer.delivered.consumer_seq >= 2, `delivered again (deliveries so far: ${consumer.delivered.consumer_seq})`);
    assert.equal((await jsm.streams.info(d.names.fetch.stream)).state.messages, 1, "still on FETCH after its first delivery");
    // FETCH_MAX_DELIVER (4) deliveries, an ack wait (1 s) apart, then the dead letter
    let letter;
    for (let i = 0; i < 100 && !letter; i++) {
      const info = await jsm.streams.info(d.names.deadLetters.stream);
      if (info.state.messages > 0) {
        const stored = await jsm.streams.getMessage(d.names.deadLetters.stream, { seq: info.state.last_seq });
        letter = decodeMessage(DeadLetterSchema, stored!.data, stored!.header);
      } else {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(letter, "dead-lettered");
    assert.equal(letter.errorCode, "UNKNOWN_JOB");
    assert.equal(letter.jobId, foreignJob);
    assert.equal(letter.attempts, 4);
    assert.match(
      letter.errorMessage,
      new RegExp(
        `no fetch job ${foreignJob} in this deployment's database: waited \\d+ s \\(4 deliveries\\).*NATS namespace "${d.namespace}"`,
      ),
    );
    assert.equal((await jsm.streams.info(d.names.fetch.stream)).state.messages, 0, "gone from FETCH once dead-lettered");
  });
});
