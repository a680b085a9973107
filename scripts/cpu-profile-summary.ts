// Summarises a V8 .cpuprofile (what `node --cpu-prof` writes, e.g. under BENCH_CPU_PROF_DIR):
// the top functions by self time and self time per package/category, so a profile of the bench's
// load reads as figures in a terminal instead of needing DevTools.
// Usage: node --import tsx scripts/cpu-profile-summary.ts <file.cpuprofile> [top] [skip seconds]
// (skip: leave out the process's start-up, module loading under tsx, which is not the load)
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function category(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith("node:")) return url.split("/")[0]!.replace(/^node:internal.*/, "node:internal");
  const repo = /\/(services\/[^/]+|lib\/[^/]+|gen|emulator|bench)\//.exec(url);
  return repo ? repo[1]! : url;
}

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) throw new Error("usage: cpu-profile-summary.ts <file.cpuprofile> [top]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
const skipUs = Number(skipArg ?? 0) * 1e6;
let at = 0;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at >= skipUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)").reduce((a, [, us]) => a + us, 0);
const fns = new Map<string, number>();
const cats = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  if (functionName === "(idle)") continue;
  const short = url.replace(/^.*?(node_modules\/|wt\d+\/)/, "");
  const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  const c = category(url, functionName);
  cats.set(c, (cats.get(c) ?? 0) + us);
}
const busy = total - idle;
const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(2)} s (idle ${(idle / 1e6).toFixed(1)} s)`);
console.log("self time by package / area (share of busy):");
for (const [c, us] of [...cats].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${c}`);
console.log("top functions by self time:");
for (const [f, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25)))
  console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${f}`);
