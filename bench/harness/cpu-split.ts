// Where a fetcher's CPU went during a time window, from a V8 CPU profile (node --cpu-prof): each
// sample is charged to the first frame, from the running function outwards, that belongs to one
// of the pipeline's parts — Google (HTTP client and decoding its JSON into Review messages),
// diffing (encoding and hashing reviews against the stored ones), Postgres (the store modules
// and the driver) or NATS (publishing events and tasks, consuming tasks, acks). Everything else
// (the task runner's own code, the runtime, start-up compilation) is "other", the garbage
// collector "gc". The bench prints it per review.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export const CPU_PARTS = ["google", "diffing", "postgres", "nats", "gc", "other"] as const;
export type CpuPart = (typeof CPU_PARTS)[number];

const RULES: [CpuPart, RegExp][] = [
  ["diffing", /pipeline\/review-diff\.ts/],
  ["nats", /@nats-io\/|pipeline\/review-publisher\.ts|pipeline\/review-event\.ts/],
  ["postgres", /node_modules\/(pg|pg-protocol|pg-pool|pg-types|typeorm)\/|services\/fetcher\/store\//],
  ["google", /node_modules\/(gaxios|googleapis-common|google-auth-library|@googleapis\/[^/]+)\/|lib\/google\/|deps\/undici\//],
];

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The main thread's profile in a service's profile directory: the largest file (tsx's loader thread writes a small one). */
export function mainProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => path.join(dir, f));
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
}

/**
 * CPU ms per part within each window ([start, end] in µs of the monotonic clock, as
 * `process.hrtime.bigint() / 1000n` gives it: V8's profile timestamps use the same clock).
 */
export function cpuSplit(file: string, windows: [number, number][]): Record<CpuPart, number>[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = new Map<number, CpuPart | "idle">();
  const classify = (id: number): CpuPart | "idle" => {
    const known = partOf.get(id);
    if (known) return known;
    const frame = byId.get(id)!.callFrame;
    let part: CpuPart | "idle";
    if (frame.functionName === "(idle)") part = "idle";
    else if (frame.functionName === "(garbage collector)") part = "gc";
    else {
      const rule = RULES.find(([, re]) => re.test(frame.url));
      const up = parent.get(id);
      part = rule ? rule[0] : up === undefined ? "other" : classify(up);
      if (part === "idle") part = "other";
    }
    partOf.set(id, part);
    return part;
  };
  const out = windows.map(() => Object.fromEntries(CPU_PARTS.map((p) => [p, 0])) as Record<CpuPart, number>);
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const part = classify(id);
    if (part === "idle") return;
    windows.forEach(([start, end], w) => {
      if (at >= start && at <= end) out[w]![part] += delta / 1000;
    });
  });
  return out;
}
