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
  /** The line before the commands; "Start it, then run npm start again:" when not set. */
  action?: string;
}

function hostPort(url: string, fallbackPort: number): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || fallbackPort}`;
  } catch {
    return url;
  }
}

const PG_START = [
  "Debian/Ubuntu:  sudo pg_ctlcluster 15 main start      (install: sudo apt-get install postgresql)",
  "Docker:         docker-compose up -d postgres",
  "Elsewhere:      set DATABASE_URL=postgres://user@host:5432/reviewflow",
];

/**
 * What a failed connection means, told by the server's SQLSTATE (or Node's socket error code),
 * never by message text: a server that is not there wants starting, a refused password or an
 * unknown role wants another DATABASE_URL, and starting Postgres again would not help.
 */
export function diagnosePostgres(err: unknown, databaseUrl: string): Problem {
  const where = hostPort(databaseUrl, 5432);
  const url = new URL(databaseUrl);
  const user = decodeURIComponent(url.username) || "(your login name)";
  const detail = (err as Error)?.message || String((err as { code?: string })?.code ?? err);
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case "28P01": // invalid_password
    case "28000": // invalid_authorization_specification: no such role, or pg_hba.conf refuses it
      return {
        what:
          code === "28P01"
            ? `PostgreSQL at ${where} refused the password of role "${user}"`
            : `PostgreSQL at ${where} does not let role "${user}" in (the role does not exist, or pg_hba.conf refuses it)`,
        detail,
        action: "Fix DATABASE_URL (or the role), then run npm start again:",
        howToFix: [
          `Create the role:   sudo -u postgres createuser --superuser ${user === "(your login name)" ? "$USER" : user}`,
          "Or use another:    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewflow npm start",
        ],
      };
    case "3D000": // invalid_catalog_name: the maintenance database `postgres` is missing
      return {
        what: `PostgreSQL at ${where} has no database "postgres" to connect to first (the product's own is created from there)`,
        detail,
        action: "Create it, then run npm start again:",
        howToFix: [`sudo -u postgres createdb -O ${user === "(your login name)" ? "$USER" : user} postgres`],
      };
    default:
      return { what: `PostgreSQL is not reachable at ${where}`, detail, howToFix: PG_START };
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
    return diagnosePostgres(err, databaseUrl);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects and asks JetStream for its account info: a server without -js fails here. */
export async function checkNats(natsUrl: string, timeoutMs = 3_000): Promise<Problem | undefined> {
  const servers = natsServers(natsUrl);
  const where = servers.map((s) => hostPort(s, 4222)).join(", ");
  // the advice starts a server where NATS_URL looks for one: its first host and port
  const [host, port] = splitHostPort(hostPort(servers[0] ?? "nats://127.0.0.1:4222", 4222));
  const fix = [
    `Debian/Ubuntu:  nats-server -js -a ${host} -p ${port} -sd .nats-data -m 8222 &     (install: sudo apt-get install nats-server)`,
    `Docker:         docker-compose up -d nats${port === "4222" ? "" : `   (it listens on 4222: set NATS_URL=nats://127.0.0.1:4222, or map port ${port})`}`,
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
    return {
      what: `NATS at ${where} answers, but JetStream is not enabled`,
      detail: (err as Error).message,
      howToFix: ["restart nats-server with -js (and -sd <dir> to keep its data)", ...fix.slice(1)],
    };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

function splitHostPort(hp: string): [string, string] {
  const at = hp.lastIndexOf(":");
  return at > 0 ? [hp.slice(0, at), hp.slice(at + 1)] : [hp, "4222"];
}

export function formatProblem(problem: Problem): string {
  return [
    `✗ ${problem.what}`,
    `  (${problem.detail})`,
    `  ${problem.action ?? "Start it, then run npm start again:"}`,
    ...problem.howToFix.map((l) => `    ${l}`),
  ].join("\n");
}
