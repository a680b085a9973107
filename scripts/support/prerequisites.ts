// Before starting anything: are Postgres and NATS (with JetStream) there? When not, say so in
// words a newcomer can act on, with the commands that start them.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { natsServers } from "../../lib/nats/connection.js";

export interface Problem {
  what: string;
  detail: string;
  howToFix: string[];
}

function hostPort(url: string, fallbackPort: number): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || fallbackPort}`;
  } catch {
    return url;
  }
}

/** Connects to the server's `postgres` database (the product's own is created at start-up). */
export async function checkPostgres(databaseUrl: string, timeoutMs = 3_000): Promise<Problem | undefined> {
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (err) {
    return {
      what: `PostgreSQL is not reachable at ${hostPort(databaseUrl, 5432)}`,
      detail: (err as Error).message || String((err as { code?: string }).code ?? err),
      howToFix: [
        "Debian/Ubuntu:  sudo pg_ctlcluster 15 main start      (install: sudo apt-get install postgresql)",
        "Docker:         docker-compose up -d postgres",
        "Elsewhere:      set DATABASE_URL=postgres://user@host:5432/reviewflow",
      ],
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects and asks JetStream for its account info: a server without -js fails here. */
export async function checkNats(natsUrl: string, timeoutMs = 3_000): Promise<Problem | undefined> {
  const servers = natsServers(natsUrl);
  const where = servers.map((s) => hostPort(s, 4222)).join(", ");
  const fix = [
    "Debian/Ubuntu:  nats-server -js -a 127.0.0.1 -p 4222 -sd .nats-data -m 8222 &     (install: sudo apt-get install nats-server)",
    "Docker:         docker-compose up -d nats",
    "Elsewhere:      set NATS_URL=nats://host:4222 (JetStream must be enabled)",
  ];
  let nc;
  try {
    nc = await connect({ servers, timeout: timeoutMs, maxReconnectAttempts: 0 });
  } catch (err) {
    return { what: `NATS is not reachable at ${where}`, detail: (err as Error).message, howToFix: fix };
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    await jsm.getAccountInfo();
    return undefined;
  } catch (err) {
    return { what: `NATS at ${where} answers, but JetStream is not enabled`, detail: (err as Error).message, howToFix: ["restart nats-server with -js (and -sd <dir> to keep its data)", ...fix.slice(1)] };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

export function formatProblem(problem: Problem): string {
  return [`✗ ${problem.what}`, `  (${problem.detail})`, "  Start it, then run npm start again:", ...problem.howToFix.map((l) => `    ${l}`)].join("\n");
}
