// `npm run bench`: every benchmark at full size (`-- --reduced` for the quick version the tests
// run), then ONE table of figures, ratios and targets. Figures only: nothing here asserts.
import { parseArgs } from "node:util";
import { runAllBenchmarks } from "./all.js";
import { formatTable, seconds } from "./harness/table.js";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { reduced: { type: "boolean", default: false }, only: { type: "string" } } });
  const size = values.reduced ? "reduced" : "full";
  const { BENCH_MODULES } = await import("./all.js");
  const modules = values.only ? BENCH_MODULES.filter((m) => m.section.toLowerCase().includes(values.only!.toLowerCase())) : BENCH_MODULES;
  const sections = await runAllBenchmarks({ size, modules, log: (line) => process.stdout.write(`${line}\n`) });
  const rows: string[][] = [];
  for (const s of sections) {
    if (s.unavailable) {
      rows.push([s.section, "—", s.unavailable, "", "", ""]);
      continue;
    }
    for (const r of s.rows)
      rows.push([s.section, r.name, r.figure, r.ratio ?? "", r.target ?? "", r.met === undefined ? "" : r.met ? "yes" : "NO"]);
  }
  const took = sections.reduce((ms, s) => ms + s.ms, 0);
  process.stdout.write(`\nBenchmarks (${size}, ${seconds(took)} in all; 2-core box, services as child processes)\n`);
  process.stdout.write(`${formatTable(["part", "benchmark", "figure", "ratio", "target", "met"], rows)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
