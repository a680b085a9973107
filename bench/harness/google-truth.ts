// What an independent REVIEWS subscriber holds after a drill, against what Google (the emulator)
// holds: every review Google lists must be live in the replay (highest version per review name,
// DELETED dropped), nothing else may be, and no event may come twice (distinct event ids,
// `<review name>@v<version>`, against the messages read).
import { ReviewEventType } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import { loadConfig } from "../../lib/config/index.js";
import { googleTruth } from "../../test/helpers/convergence.js";
import type { Environment } from "./environment.js";
import type { ReviewTally } from "./review-count.js";

export interface TruthComparison {
  /** Reviews Google holds. */
  expected: number;
  /** Of those, how many the subscriber holds live. */
  delivered: number;
  /** Messages read. */
  total: number;
  /** Google's reviews the subscriber does not hold. */
  lost: number;
  /** Messages beyond the distinct event ids. */
  duplicated: number;
  /** Reviews the subscriber holds that Google does not. */
  extra: number;
}

export async function compareWithGoogle(env: Environment, tally: ReviewTally): Promise<TruthComparison> {
  const google = loadConfig({ GOOGLE_OAUTH_URL: env.emulator.url, GOOGLE_API_URL: env.emulator.url }).google.endpoints;
  const token = env.emulator.controls.issueTokens({ client_id: env.googleClient.id }).access_token;
  const truth = await googleTruth(google, token);
  const latest = new Map<string, { version: number; deleted: boolean }>();
  const ids = new Set<string>();
  for (const event of tally.events) {
    ids.add(event.eventId);
    const name = event.review?.name ?? "";
    const held = latest.get(name);
    if (!held || event.version > held.version)
      latest.set(name, { version: event.version, deleted: event.type === ReviewEventType.DELETED });
  }
  const live = new Set([...latest].filter(([, held]) => !held.deleted).map(([name]) => name));
  const delivered = [...truth.keys()].filter((name) => live.has(name)).length;
  return {
    expected: truth.size,
    delivered,
    total: tally.total,
    lost: truth.size - delivered,
    duplicated: tally.total - ids.size,
    extra: [...live].filter((name) => !truth.has(name)).length,
  };
}
