// `npm run reviews:tail`: prints every ReviewEvent on the REVIEWS stream as one JSON line
// (protobuf-es toJson, proto field names), in stream order: `event_id` is `<review name>@v<version>`,
// `version` the review's version, `previous_version` the one it follows (protobuf JSON leaves a
// zero out, so a review's first event has none). Ctrl-C stops it.
//
//   npm run reviews:tail                          new events only, ephemeral consumer
//   npm run reviews:tail -- --from-start          everything still stored (30 days)
//   npm run reviews:tail -- --durable my-app      a named consumer that resumes where it stopped
//   npm run reviews:tail -- --subject 'reviews.<client_id>.>'   one client's events only
//   npm run reviews:tail -- --namespace t123      streams of a test/drill namespace
//
// NATS_URL and NATS_NAMESPACE are read as everywhere else; flags win.
import { parseArgs } from "node:util";
import { toJsonString } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import { ReviewEventSchema } from "../gen/reviewflow/reviews/v1/events_pb.js";
import { loadConfig } from "../lib/config/index.js";
import { streamNames } from "../lib/nats/names.js";
import { tailReviews } from "./support/review-tail.js";

const USAGE = `usage: npm run reviews:tail -- [--from-start] [--durable NAME] [--subject SUBJECT] [--namespace NS] [--url nats://host:4222]`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        durable: { type: "string" },
        "from-start": { type: "boolean", default: false },
        subject: { type: "string" },
        namespace: { type: "string" },
        url: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.durable !== undefined && !/^[A-Za-z0-9_-]+$/.test(args.durable)) {
    process.stderr.write("--durable: letters, digits, _ and - only\n");
    return 2;
  }
  const config = loadConfig({
    ...process.env,
    ...(args.url ? { NATS_URL: args.url } : {}),
    ...(args.namespace !== undefined ? { NATS_NAMESPACE: args.namespace } : {}),
  });
  const names = streamNames(config.nats.namespace);
  let connection;
  try {
    connection = await connect({ servers: [...config.nats.servers], name: "reviews-tail", maxReconnectAttempts: -1 });
  } catch (err) {
    process.stderr.write(`cannot reach NATS at ${config.nats.url}: ${(err as Error).message}\n`);
    return 1;
  }
  let tail;
  try {
    tail = await tailReviews({
      connection,
      names,
      durable: args.durable,
      fromStart: args["from-start"],
      subject: args.subject,
      onEvent: (event) => {
        process.stdout.write(`${toJsonString(ReviewEventSchema, event, { useProtoFieldName: true })}\n`);
      },
      onBadMessage: (subject, err) => process.stderr.write(`skipped a message on ${subject}: ${err.message}\n`),
    });
  } catch (err) {
    process.stderr.write(
      `cannot read stream ${names.reviews.stream}: ${(err as Error).message} (has a service created the streams yet?)\n`,
    );
    await connection.close();
    return 1;
  }
  process.stderr.write(
    `tailing ${names.reviews.stream}${args.subject ? ` (${args.subject})` : ""}, ${args.durable ? `durable consumer ${args.durable}` : "ephemeral"}, ${args["from-start"] ? "from the start" : "new events only"}; Ctrl-C stops\n`,
  );
  const stop = async () => {
    await tail.stop();
    await connection.close();
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
  await tail.done;
  await connection.closed();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`reviews:tail failed: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  },
);
