// Deterministic data. Accounts and locations are built eagerly (600 locations for `large` take
// a few milliseconds); reviews are generated per location on first use from that location's
// own PRNG stream, so start-up stays fast and untouched locations cost nothing.
import type { AccountRec, LocationRec, Rating, ReviewRec } from "./model.js";
import { BASE64URL, chance, decimalId, mixSeed, mulberry32, pick, randInt, randomChars, type Rng } from "./prng.js";
import type { ResolvedSeed } from "./seed-spec.js";
import {
  BRANDS,
  CITIES,
  COMMENTS,
  DISTRICTS,
  EMULATED_USER,
  FIRST_NAMES,
  GROUP_NAMES,
  LAST_NAMES,
  REPLIES,
  STREETS,
  TRANSLATED_COMMENTS,
} from "./seed-vocabulary.js";

const DAY_MS = 86_400_000;
/**
 * Every seeded time (create, update, reply) falls before this fixed instant, never the clock at
 * start: a restarted emulator with the same seed serves byte-identical reviews, so a product
 * that fetched before the restart sees no change after it. It lies in the past, so edits and
 * additions (stamped with the real clock, and never before it: review-store.ts) sort after
 * every seeded review.
 */
export const SEED_ANCHOR_MS = Date.parse("2026-01-01T00:00:00Z");
/** Seeded reviews are created within this many days before the anchor. */
export const REVIEW_AGE_DAYS = 20;

export function generateAccounts(seed: ResolvedSeed): AccountRec[] {
  const rng = mulberry32(mixSeed(seed.seed, 1));
  const countRng = mulberry32(mixSeed(seed.seed, 2));
  const [min, max] = seed.reviewsPerLocation;
  const accounts: AccountRec[] = [];
  for (let a = 0; a < seed.accounts; a++) {
    const account = buildAccount(rng, a);
    const brand = pick(rng, BRANDS);
    for (let l = 0; l < seed.locationsPerAccount; l++) {
      account.locations.push(buildLocation(rng, account, brand, [a, l], randInt(countRng, min, max)));
    }
    accounts.push(account);
  }
  return accounts;
}

function buildAccount(rng: Rng, index: number): AccountRec {
  const id = decimalId(rng, 21);
  const name = `accounts/${id}`;
  // Google: "The personal account of the user doing the query will always be the first item".
  if (index === 0) {
    const accountName = EMULATED_USER.displayName;
    const json = { name, accountName, type: "PERSONAL", verificationState: "UNVERIFIED", vettedState: "NOT_VETTED" };
    return { id, name, accountName, type: "PERSONAL", json, locations: [] };
  }
  const accountName = GROUP_NAMES[(index - 1) % GROUP_NAMES.length] as string;
  if (index % 2 === 1) {
    const json = {
      name,
      accountName,
      type: "LOCATION_GROUP",
      role: "PRIMARY_OWNER",
      verificationState: "UNVERIFIED",
      vettedState: "NOT_VETTED",
      permissionLevel: "OWNER_LEVEL",
    };
    return { id, name, accountName, type: "LOCATION_GROUP", json, locations: [] };
  }
  const city = pick(rng, CITIES);
  const json = {
    name,
    accountName,
    type: "ORGANIZATION",
    role: "OWNER",
    verificationState: "VERIFIED",
    vettedState: "VETTED",
    accountNumber: `${randInt(rng, 1000, 9999)}-${randInt(rng, 1000, 9999)}-${randInt(rng, 1000, 9999)}`,
    permissionLevel: "OWNER_LEVEL",
    organizationInfo: {
      registeredDomain: `${slug(accountName)}.example.com`,
      address: {
        regionCode: city.region,
        postalCode: city.postal,
        locality: city.city,
        addressLines: [`${pick(rng, STREETS)} ${randInt(rng, 1, 120)}`],
      },
      phoneNumber: `${city.phone} ${randInt(rng, 1_000_000, 9_999_999)}`,
    },
  };
  return { id, name, accountName, type: "ORGANIZATION", json, locations: [] };
}

function buildLocation(
  rng: Rng,
  account: AccountRec,
  brand: (typeof BRANDS)[number],
  seedIndex: readonly [number, number],
  seededReviewCount: number,
): LocationRec {
  const id = decimalId(rng, 19);
  const city = pick(rng, CITIES);
  const district = pick(rng, DISTRICTS);
  const title = `${brand.brand} ${city.city} ${district}`;
  const initials = brand.brand
    .split(" ")
    .map((w) => w[0])
    .join("")
    .toUpperCase();
  const storeCode = `${initials}-${String(seedIndex[1] + 1).padStart(4, "0")}`;
  const placeId = `ChIJ${randomChars(rng, 23, BASE64URL)}`;
  const cid = decimalId(rng, 19);
  const json: Record<string, unknown> = {
    name: `locations/${id}`,
    languageCode: "en",
    storeCode,
    title,
    phoneNumbers: { primaryPhone: `${city.phone} ${randInt(rng, 1_000_000, 9_999_999)}` },
    categories: { primaryCategory: { name: `categories/gcid:${brand.category}`, displayName: brand.categoryName } },
    storefrontAddress: {
      regionCode: city.region,
      languageCode: "en",
      postalCode: city.postal,
      administrativeArea: city.area,
      locality: city.city,
      addressLines: [`${pick(rng, STREETS)} ${randInt(rng, 1, 200)}`],
    },
    websiteUri: `https://${slug(brand.brand)}.example.com/${slug(`${city.city}-${district}`)}`,
    regularHours: { periods: weekdayPeriods() },
    latlng: { latitude: round6(city.lat + (rng() - 0.5) / 20), longitude: round6(city.lng + (rng() - 0.5) / 20) },
    openInfo: { status: "OPEN", canReopen: true },
    profile: { description: `${brand.categoryName} in ${city.city} ${district}.` },
    metadata: {
      hasVoiceOfMerchant: true,
      canDelete: true,
      canModifyServiceList: true,
      canHaveBusinessCalls: true,
      placeId,
      mapsUri: `https://maps.google.com/maps?cid=${cid}`,
      newReviewUri: `https://search.google.com/local/writereview?placeid=${placeId}`,
    },
  };
  if (chance(rng, 0.3)) json.labels = ["flagship"];
  return {
    id,
    name: `locations/${id}`,
    parent: `${account.name}/locations/${id}`,
    accountId: account.id,
    title,
    storeCode,
    json,
    seedIndex,
    seededReviewCount,
  };
}

/** The seeded reviews of one location; the same inputs always give the same reviews. */
export function generateReviews(seed: ResolvedSeed, location: LocationRec): ReviewRec[] {
  const rng = mulberry32(mixSeed(seed.seed, 3, location.seedIndex[0], location.seedIndex[1]));
  const baseMs = SEED_ANCHOR_MS;
  const reviews: ReviewRec[] = [];
  for (let i = 0; i < location.seededReviewCount; i++) {
    const reviewId = `AbFvO${randomChars(rng, 47, BASE64URL)}`;
    const rating = drawRating(rng);
    const createMs = baseMs - 60_000 - Math.floor(rng() * REVIEW_AGE_DAYS * DAY_MS);
    const edited = chance(rng, 0.15);
    const updateMs = edited ? createMs + Math.floor(rng() * (baseMs - createMs)) : createMs;
    const review: ReviewRec = {
      name: `${location.parent}/reviews/${reviewId}`,
      reviewId,
      rating,
      createMs,
      updateMs,
      anonymous: chance(rng, 0.08),
    };
    if (!review.anonymous) review.displayName = `${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`;
    if (!chance(rng, 0.2)) review.comment = drawComment(rng, rating);
    if (chance(rng, rating <= 2 ? 0.6 : 0.3)) {
      review.reply = { comment: pick(rng, REPLIES), updateMs: createMs + Math.floor(rng() * (baseMs - createMs)) };
    }
    reviews.push(review);
  }
  return reviews;
}

/** Skewed towards good ratings, as real profiles are. */
function drawRating(rng: Rng): Rating {
  const r = rng();
  if (r < 0.08) return 1;
  if (r < 0.14) return 2;
  if (r < 0.26) return 3;
  if (r < 0.5) return 4;
  return 5;
}

function drawComment(rng: Rng, rating: Rating): string {
  if (chance(rng, 0.03)) return pick(rng, TRANSLATED_COMMENTS);
  const pool = rating >= 4 ? COMMENTS.positive : rating === 3 ? COMMENTS.neutral : COMMENTS.negative;
  const first = pick(rng, pool);
  return chance(rng, 0.4) ? `${first} ${pick(rng, pool)}` : first;
}

function weekdayPeriods(): unknown[] {
  const days = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"];
  const periods: unknown[] = days.map((day) => ({ openDay: day, openTime: { hours: 8 }, closeDay: day, closeTime: { hours: 18 } }));
  periods.push({ openDay: "SATURDAY", openTime: { hours: 9 }, closeDay: "SATURDAY", closeTime: { hours: 14 } });
  return periods;
}

function slug(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[^\w\s-]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, "-");
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
