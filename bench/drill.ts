// `npm run drill`: the fault drills at full size (`-- --reduced` for the quick version, `-- --only
// NATS` for one drill). Starts its own nats-server and services on spare ports, with its own
// databases; needs Postgres on DATABASE_URL's server and Debian's nats-server.
import { parseArgs } from "node:util";
import { runDrills } from "./drills.js";
import { count, formatTable, seconds } from "./harness/table.js";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { reduced: { type: "boolean", default: false }, only: { type: "string" } } });
  const size = values.reduced ? "reduced" : "full";
  const results = await runDrills({ size, only: values.only, log: (line) => process.stdout.write(`${line}\n`) });
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
  process.stdout.write(`\nFault drills (${size})\n${formatTable(["drill", "expected", "delivered", "total", "lost", "duplicated", "job", "time"], rows)}\n`);
  const ok = results.every((r) => r.lost === 0 && r.duplicated === 0 && r.finished && r.jobStatus === "SUCCEEDED");
  process.stdout.write(ok ? "\nall drills: 0 lost, 0 duplicated, every job finished\n" : "\nsome drills missed the goal (0 lost, 0 duplicated, every job finished): see the notes above\n");
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`drill failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
