// `npm run drill`: the fault drills at full size (`-- --reduced` for the quick version, `-- --only
// NATS` for one drill). Starts its own nats-server and services on spare ports, with its own
// databases; needs Postgres on DATABASE_URL's server and Debian's nats-server. `-- --cluster`
// runs the cluster drills instead: three nats-servers of its own, streams at R3.
import { parseArgs } from "node:util";
import { runClusterDrills } from "./cluster-drills.js";
import { drillsMetGoal, runDrills } from "./drills.js";
import { count, formatTable, seconds } from "./harness/table.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { reduced: { type: "boolean", default: false }, cluster: { type: "boolean", default: false }, only: { type: "string" } },
  });
  const size = values.reduced ? "reduced" : "full";
  const run = values.cluster ? runClusterDrills : runDrills;
  const results = await run({ size, only: values.only, log: (line) => process.stdout.write(`${line}\n`) });
  const rows = results.map((r) => [
    r.name,
    count(r.expected),
    count(r.delivered),
    count(r.total),
    count(r.lost),
    count(r.duplicated),
    `${r.jobStatus}${r.finished ? "" : " (not finished)"}`,
    seconds(r.ms),
  ]);
  const title = values.cluster ? `Cluster drills (${size}; 3 nats-servers, streams at R3)` : `Fault drills (${size})`;
  process.stdout.write(
    `\n${title}\n${formatTable(["drill", "expected", "delivered", "total", "lost", "duplicated", "job", "time"], rows)}\n`,
  );
  for (const r of results) for (const problem of r.problems) process.stdout.write(`${r.name}: ${problem}\n`);
  const ok = drillsMetGoal(results);
  process.stdout.write(
    ok
      ? "\nall drills: 0 lost, 0 duplicated, every job finished\n"
      : "\nsome drills missed the goal (0 lost, 0 duplicated, every job finished, nothing else wrong): see the notes above\n",
  );
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`drill failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
