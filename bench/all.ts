// Every benchmark in one run: the other issues' modules (loaded dynamically, so a missing one is a
// "not available" row rather than a crash) and the naive baseline next to the pipeline.
import type { BenchFn, BenchRow, BenchSize } from "./types.js";

export interface BenchModule {
  /** Section title in the table. */
  section: string;
  /** Module path relative to bench/, and the export to call. */
  file: string;
  exportName: string;
}

export const BENCH_MODULES: BenchModule[] = [
  { section: "TokenService", file: "./token.js", exportName: "runTokenBench" },
  { section: "ReviewFetcher", file: "./fetcher.js", exportName: "runFetcherBench" },
  { section: "Gateway", file: "./gateway.js", exportName: "runGatewayBench" },
  { section: "Naive baseline vs pipeline", file: "./baseline.js", exportName: "runBaselineBench" },
  { section: "NATS cluster (R3 vs R1)", file: "./cluster.js", exportName: "runClusterBench" },
  { section: "Sync scheduler", file: "./sync.js", exportName: "runSyncBench" },
  { section: "Console", file: "./console.js", exportName: "runConsoleBench" },
  { section: "Review notifications", file: "./notifications.js", exportName: "runNotificationsBench" },
  { section: "Scale (ten projects)", file: "./scale.js", exportName: "runScaleBench" },
];

export interface SectionResult {
  section: string;
  rows: BenchRow[];
  /** Set when the module is missing or failed: shown instead of figures. */
  unavailable?: string;
  ms: number;
}

async function loadBench(module: BenchModule): Promise<BenchFn | string> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(module.file)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes(module.file.replace("./", "").replace(".js", ""))) {
      return `not available (bench/${module.file.slice(2).replace(/\.js$/, ".ts")} does not exist yet)`;
    }
    return `not available (loading failed: ${(err as Error).message.split("\n")[0]})`;
  }
  const fn = loaded[module.exportName];
  return typeof fn === "function" ? (fn as BenchFn) : `not available (no ${module.exportName} export)`;
}

export async function runAllBenchmarks(options: {
  size: BenchSize;
  log?: (line: string) => void;
  modules?: BenchModule[];
}): Promise<SectionResult[]> {
  const log = options.log ?? (() => undefined);
  const results: SectionResult[] = [];
  for (const module of options.modules ?? BENCH_MODULES) {
    const started = performance.now();
    const fn = await loadBench(module);
    if (typeof fn === "string") {
      log(`${module.section}: ${fn}`);
      results.push({ section: module.section, rows: [], unavailable: fn, ms: 0 });
      continue;
    }
    log(`${module.section}: running (${options.size})`);
    try {
      const rows = await fn({ size: options.size, log: (line) => log(`  ${line}`) });
      results.push({ section: module.section, rows, ms: performance.now() - started });
    } catch (err) {
      const reason = `failed: ${(err as Error).message.split("\n")[0]}`;
      log(`${module.section}: ${reason}`);
      results.push({ section: module.section, rows: [], unavailable: reason, ms: performance.now() - started });
    }
  }
  return results;
}
