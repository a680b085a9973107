import { Foundation1732200000001 } from "./0001-foundation.js";
import { Token1732200000002 } from "./0002-token.js";
import { Fetcher1732200000003 } from "./0003-fetcher.js";
import { Gateway1732200000004 } from "./0004-gateway.js";
import { FetcherCounters1732200000005 } from "./0005-fetcher-counters.js";
import { ReviewVersions1732200000006 } from "./0006-review-versions.js";
import { BranchIdsPerTenant1732200000007 } from "./0007-branch-ids-per-tenant.js";
import { Sync1732200000008 } from "./0008-sync.js";
import { QuotaLanes1732200000009 } from "./0009-quota-lanes.js";
import { Notifications1732200000010 } from "./0010-notifications.js";
import { ConsoleSessions1732200000011 } from "./0011-console-sessions.js";
import { ReviewsFillfactor1732200000012 } from "./0012-reviews-fillfactor.js";
import { ReviewPublications1732200000013 } from "./0013-review-publications.js";

/** Every migration, in order. Classes, not globs, so loading does not depend on the runner. */
export const migrations = [
  Foundation1732200000001,
  Token1732200000002,
  Fetcher1732200000003,
  Gateway1732200000004,
  FetcherCounters1732200000005,
  ReviewVersions1732200000006,
  BranchIdsPerTenant1732200000007,
  Sync1732200000008,
  QuotaLanes1732200000009,
  Notifications1732200000010,
  ConsoleSessions1732200000011,
  ReviewsFillfactor1732200000012,
  ReviewPublications1732200000013,
];
