// CPU time spent by the processes a job runs on, read from /proc between two samples: the
// services (by pid), the nats-server, this process (the in-process Google emulator and the
// bench itself) and the Postgres backends serving one database. A benchmark that is timed on a
// box shared with other work prints these beside its wall time: CPU per request does not move
// with the box's load the way wall time does.
import { readFileSync } from "node:fs";
import pg from "pg";

export interface CpuSample {
  /** CPU ms so far of each named process (0 when it is gone). */
  processes: Record<string, number>;
  /** CPU ms so far of each Postgres backend on the database (pid → ms); absent when Postgres is not local. */
  postgres?: Map<number, number>;
}

/** CPU ms between two samples, by process name, plus `postgres` (NaN when Postgres is not on this machine). */
export type CpuSpent = Record<string, number>;

/** utime + stime of a local process from /proc (clock ticks of 10 ms), in ms; NaN where it cannot be read. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the fields after the command name (which may hold spaces), counted from the state field (3)
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** The same, 0 when the process is gone (or was never started). */
export function processCpuMs(pid: number | undefined): number {
  const ms = pid ? cpuMs(pid) : 0;
  return Number.isNaN(ms) ? 0 : ms;
}

export function isLocalPostgres(databaseUrl: string): boolean {
  return ["127.0.0.1", "localhost", "[::1]", ""].includes(new URL(databaseUrl).hostname);
}

/** Samples `pids` (name → pid; `self` is this process) and the database's backends, over a connection of its own. */
export function createCpuSampler(databaseUrl: string, pids: () => Record<string, number | undefined>) {
  const db = new pg.Client({ connectionString: databaseUrl });
  const local = isLocalPostgres(databaseUrl);
  let connected: Promise<void> | undefined;
  return {
    async sample(): Promise<CpuSample> {
      const processes: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids())) {
        processes[name] = name === "self" ? process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 : processCpuMs(pid);
      }
      if (!local) return { processes };
      connected ??= db.connect().then(() => undefined);
      await connected;
      const { rows } = await db.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
      return { processes, postgres: new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)])) };
    },
    async close(): Promise<void> {
      if (connected) await db.end().catch(() => undefined);
    },
  };
}

/**
 * CPU spent between two samples. A backend that connected in between counts whole (its set-up is
 * a few ms); one that disconnected in between is missed (pools keep busy connections open).
 */
export function cpuSpent(before: CpuSample, after: CpuSample): CpuSpent {
  const out: CpuSpent = {};
  for (const [name, ms] of Object.entries(after.processes)) out[name] = ms - (before.processes[name] ?? 0);
  if (!before.postgres || !after.postgres) out.postgres = Number.NaN;
  else {
    let ms = 0;
    for (const [pid, now] of after.postgres) ms += now - (before.postgres.get(pid) ?? 0);
    out.postgres = ms;
  }
  return out;
}
