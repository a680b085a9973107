// FieldMask handling for Business Information v1 Location (reference §1.2): comma-separated,
// fully qualified paths; only masked fields come back; a path that names an unknown field or
// descends into a repeated field is "Invalid field mask provided".

/** "leaf": a scalar or a message taken whole; "repeated": no deeper path; "open": deeper paths unchecked. */
type Node = "leaf" | "repeated" | "open" | { [field: string]: Node };

const POSTAL_ADDRESS: Node = {
  regionCode: "leaf",
  languageCode: "leaf",
  postalCode: "leaf",
  sortingCode: "leaf",
  administrativeArea: "leaf",
  locality: "leaf",
  sublocality: "leaf",
  addressLines: "repeated",
  recipients: "repeated",
  organization: "leaf",
  revision: "leaf",
};
const CATEGORY: Node = { name: "leaf", displayName: "leaf", serviceTypes: "repeated", moreHoursTypes: "repeated" };

/** The Location message, from the googleapis typings `Schema$Location`. */
const LOCATION: { [field: string]: Node } = {
  name: "leaf",
  languageCode: "leaf",
  storeCode: "leaf",
  title: "leaf",
  phoneNumbers: { primaryPhone: "leaf", additionalPhones: "repeated" },
  categories: { primaryCategory: CATEGORY, additionalCategories: "repeated" },
  storefrontAddress: POSTAL_ADDRESS,
  websiteUri: "leaf",
  regularHours: { periods: "repeated" },
  specialHours: { specialHourPeriods: "repeated" },
  serviceArea: "open",
  labels: "repeated",
  adWordsLocationExtensions: { adPhone: "leaf" },
  latlng: { latitude: "leaf", longitude: "leaf" },
  openInfo: { status: "leaf", canReopen: "leaf", openingDate: "open" },
  metadata: {
    hasGoogleUpdated: "leaf",
    hasPendingEdits: "leaf",
    hasVoiceOfMerchant: "leaf",
    canDelete: "leaf",
    canHaveBusinessCalls: "leaf",
    canHaveFoodMenus: "leaf",
    canModifyServiceList: "leaf",
    canOperateHealthData: "leaf",
    canOperateLodgingData: "leaf",
    canOperateLocalPost: "leaf",
    duplicateLocation: "leaf",
    isParticularlyPersonalPlace: "leaf",
    mapsUri: "leaf",
    newReviewUri: "leaf",
    placeId: "leaf",
  },
  profile: { description: "leaf" },
  relationshipData: "open",
  moreHours: "repeated",
  serviceItems: "repeated",
};

/** Parsed paths, or undefined when the mask is invalid. Snake_case segments are accepted too. */
export function parseReadMask(mask: string): string[][] | undefined {
  const paths = mask.split(",").map((p) => p.trim());
  if (paths.some((p) => p === "")) return undefined;
  const parsed: string[][] = [];
  for (const path of paths) {
    const segments = path.split(".").map((s) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
    let node: Node = LOCATION;
    for (const segment of segments) {
      if (node === "open") break;
      if (node === "leaf" || node === "repeated") return undefined;
      const next: Node | undefined = Object.hasOwn(node, segment) ? node[segment] : undefined;
      if (next === undefined) return undefined;
      node = next;
    }
    parsed.push(segments);
  }
  return parsed;
}

/** Copies the masked paths of `source` into a new object; absent fields stay absent. */
export function applyReadMask(source: Record<string, unknown>, paths: readonly string[][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    let from: unknown = source;
    for (const segment of path) from = typeof from === "object" && from !== null ? (from as Record<string, unknown>)[segment] : undefined;
    if (from === undefined) continue;
    let to = out;
    for (const segment of path.slice(0, -1)) to = (to[segment] ??= {}) as Record<string, unknown>;
    to[path[path.length - 1] as string] = structuredClone(from);
  }
  return out;
}

/** Reads a dotted path for filters and sorting. */
export function valueAt(source: Record<string, unknown>, path: string): unknown {
  let v: unknown = source;
  for (const segment of path.split(".")) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[segment] : undefined;
  return v;
}
