/**
 * Every stream, subject and consumer name, in one place. A namespace (NATS_NAMESPACE, used by
 * tests and drills) prefixes streams and subjects so concurrent runs never share a stream. The
 * work streams (FETCH, DEAD_LETTERS) may have a namespace of their own: by default a deployment
 * keeps DESIGN.md's public names (REVIEWS, TOKEN_EVENTS) but its work apart from any other
 * deployment on the same NATS.
 */
export type StageName = "accounts" | "locations" | "reviews";
export const STAGES: readonly StageName[] = ["accounts", "locations", "reviews"];

export type TokenEventName = "connected" | "refreshed" | "needs_reauth" | "revoked";

export interface StreamNames {
  /** Of the public streams, REVIEWS and TOKEN_EVENTS. */
  namespace: string;
  /** Of the work streams, FETCH and DEAD_LETTERS. */
  workNamespace: string;
  fetch: {
    stream: string;
    subject(stage: StageName): string;
    consumer(stage: StageName): string;
    all: string;
    /** Google's review notifications, as the receivers hand them on (one consumer, the fetchers'). */
    notifications: { subject: string; consumer: string };
  };
  reviews: { stream: string; subject(clientId: string, locationId: string): string; all: string };
  deadLetters: { stream: string; subject(stage: StageName): string; all: string };
  tokenEvents: { stream: string; subject(clientId: string, event: TokenEventName): string; all: string };
  /** JetStream's advisory when a FETCH consumer gave up on a message (work-queue streams keep it). */
  maxDeliveriesAdvisory(stage: StageName): string;
}

/** Subject tokens must not contain dots, spaces or wildcards; ids are UUIDs, but guard anyway. */
function token(value: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) throw new Error(`"${value}" cannot be a NATS subject token`);
  return value;
}

export function streamNames(namespace = "", workNamespace = namespace): StreamNames {
  const s = (name: string) => (namespace ? `${namespace}_${name}` : name);
  const subj = (name: string) => (namespace ? `${namespace}.${name}` : name);
  const ws = (name: string) => (workNamespace ? `${workNamespace}_${name}` : name);
  const wsubj = (name: string) => (workNamespace ? `${workNamespace}.${name}` : name);
  const fetchStream = ws("FETCH");
  return {
    namespace,
    workNamespace,
    fetch: {
      stream: fetchStream,
      subject: (stage) => wsubj(`fetch.${stage}`),
      consumer: (stage) => `fetch-${stage}`,
      all: wsubj("fetch.>"),
      notifications: { subject: wsubj("fetch.notifications"), consumer: "fetch-notifications" },
    },
    reviews: {
      stream: s("REVIEWS"),
      subject: (clientId, locationId) => subj(`reviews.${token(clientId)}.${token(locationId)}`),
      all: subj("reviews.>"),
    },
    deadLetters: { stream: ws("DEAD_LETTERS"), subject: (stage) => wsubj(`deadletter.${stage}`), all: wsubj("deadletter.>") },
    tokenEvents: {
      stream: s("TOKEN_EVENTS"),
      subject: (clientId, event) => subj(`tokens.${token(clientId)}.${event}`),
      all: subj("tokens.>"),
    },
    maxDeliveriesAdvisory: (stage) => `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${fetchStream}.fetch-${stage}`,
  };
}

/** The header that names a JetStream payload's protobuf type. */
export const TYPE_HEADER = "Reviewflow-Type";
