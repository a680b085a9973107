// `npm start`: the whole system on one machine. Checks Postgres and NATS, makes development
// secrets, migrates and creates the streams, starts the Google emulator and the three services
// as child processes, seeds and connects a demo client, prints what to try, restarts a service
// that dies (with backoff, saying so), and on Ctrl-C stops everything in order. The only file of the launcher with side effects.
import path from "node:path";
import { loadConfig, ConfigError, type Config } from "../lib/config/index.js";
import { streamNames } from "../lib/nats/names.js";
import { whenParentIsNot } from "../lib/process/launcher.js";
import { createServiceClient } from "../lib/rpc/service-client.js";
import { ConnectionStatus } from "../gen/reviewflow/token/v1/resources_pb.js";
import { TokenService } from "../gen/reviewflow/token/v1/token_service_pb.js";
import { describeExit, REPO_ROOT, startChildService, type ChildService, type ExitInfo } from "./support/child-service.js";
import { connectThroughConsent, type ConsentOutcome } from "./support/consent.js";
import { seedDemo, type DemoBranch } from "./support/demo-seed.js";
import { loadDevSecrets } from "./support/dev-secrets.js";
import { grantedBy, loadGrantOrigins } from "./support/grant-origins.js";
import { grpcHealthy, httpHealthy, ServiceStartError, waitUntilHealthy } from "./support/health.js";
import { formatNextSteps } from "./support/next-steps.js";
import { isPortOpen } from "./support/ports.js";
import { prepareStorage } from "./support/storage.js";
import { DEFAULT_RESTART_POLICY, RestartTracker } from "./support/restart-policy.js";
import { checkNats, checkPostgres, formatProblem } from "./support/prerequisites.js";

const DEMO_GOOGLE_CLIENT = { id: "demo-client.apps.googleusercontent.com", secret: "demo-secret" };
const say = (line = "") => process.stdout.write(`${line}\n`);

/** Relative to the working directory when inside it (.run/logs), absolute otherwise. */
function displayPath(p: string): string {
  const relative = path.relative(process.cwd(), p);
  return relative && !relative.startsWith("..") ? relative : p;
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === "") return fallback;
  return ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}

interface Plan {
  env: NodeJS.ProcessEnv;
  config: Readonly<Config>;
  useEmulator: boolean;
  runDir: string;
  logDir: string;
  adminKeySource: string;
  /** TOKEN_ENCRYPTION_KEY was made by this start: whatever an earlier one sealed is unreadable. */
  freshEncryptionKey: boolean;
  echoLogs: boolean;
}

function plan(): Plan {
  const runDir = path.resolve(process.env.REVIEWFLOW_RUN_DIR ?? path.join(REPO_ROOT, ".run"));
  const secrets = loadDevSecrets(runDir, process.env);
  const env: NodeJS.ProcessEnv = { ...process.env, ...secrets.values, LOG_LEVEL: process.env.LOG_LEVEL ?? "info" };
  // GOOGLE_* set by hand means "talk to that Google"; START_EMULATOR decides explicitly either way
  const useEmulator = flag(env.START_EMULATOR, !env.GOOGLE_OAUTH_URL && !env.GOOGLE_API_URL);
  if (useEmulator) {
    const emulatorUrl = `http://127.0.0.1:${env.EMULATOR_PORT ?? "8090"}`;
    env.GOOGLE_OAUTH_URL = emulatorUrl;
    env.GOOGLE_API_URL = emulatorUrl;
    env.EMULATOR_SEED ??= "demo";
    env.EMULATOR_AUTO_APPROVE ??= "true";
    // review notifications out of the box: the fetcher keeps the demo account's setting on a
    // topic, the emulator pushes each edit to the gateway's push route signed with its own key,
    // and the gateway verifies against the emulator's JWKS (DESIGN.md: an edit shows up in seconds)
    const pushUrl = `http://127.0.0.1:${env.GATEWAY_PORT ?? "8080"}/google/pubsub/push`;
    env.GOOGLE_PUBSUB_TOPIC ??= "projects/reviewflow-demo/topics/reviews";
    env.EMULATOR_PUSH_ENDPOINT ??= pushUrl;
    env.PUBSUB_PUSH_AUDIENCE ??= env.EMULATOR_PUSH_AUDIENCE ?? pushUrl;
    env.EMULATOR_PUSH_AUDIENCE ??= env.PUBSUB_PUSH_AUDIENCE;
    env.PUBSUB_PUSH_SERVICE_ACCOUNT ??= env.EMULATOR_PUSH_SERVICE_ACCOUNT ?? "pubsub-push@reviewflow-emulator.iam.gserviceaccount.com";
    env.EMULATOR_PUSH_SERVICE_ACCOUNT ??= env.PUBSUB_PUSH_SERVICE_ACCOUNT;
    env.GOOGLE_JWKS_URL ??= `${emulatorUrl}/oauth2/v3/certs`;
  }
  const config = loadConfig(env);
  const source = secrets.sources.ADMIN_API_KEY === "environment" ? "from ADMIN_API_KEY" : `kept in ${displayPath(secrets.file)}`;
  return {
    env,
    config,
    useEmulator,
    runDir,
    logDir: path.join(runDir, "logs"),
    adminKeySource: source,
    freshEncryptionKey: secrets.sources.TOKEN_ENCRYPTION_KEY === "generated",
    echoLogs: process.argv.includes("--logs") || flag(env.START_LOGS, false),
  };
}

/** The services in start order; stopped in reverse. */
function serviceList(p: Plan): { name: string; entry: string; port: number; probe: () => Promise<boolean> }[] {
  const c = p.config;
  const list = [];
  if (p.useEmulator)
    list.push({
      name: "emulator",
      entry: "emulator/main.ts",
      port: c.emulator.port,
      probe: () => httpHealthy(`http://127.0.0.1:${c.emulator.port}/_emulator/config`),
    });
  list.push(
    { name: "token", entry: "services/token/main.ts", port: c.token.port, probe: () => grpcHealthy(`http://127.0.0.1:${c.token.port}`) },
    {
      name: "fetcher",
      entry: "services/fetcher/main.ts",
      port: c.fetcher.port,
      probe: () => grpcHealthy(`http://127.0.0.1:${c.fetcher.port}`),
    },
    {
      name: "gateway",
      entry: "services/gateway/main.ts",
      port: c.gateway.port,
      probe: () => httpHealthy(`http://127.0.0.1:${c.gateway.port}/ready`),
    },
  );
  return list;
}

async function demoBranches(emulatorUrl: string): Promise<DemoBranch[]> {
  const res = await fetch(`${emulatorUrl}/_emulator/data`);
  // `parent` is the v4 name, accounts/{a}/locations/{l}; `name` is Business Information's locations/{l}
  const data = (await res.json()) as { accounts: { name: string; locations: { parent: string; title: string; reviewCount: number }[] }[] };
  const locations = data.accounts
    .flatMap((a) => a.locations)
    .filter((l) => l.reviewCount > 0)
    .slice(0, 3);
  return locations.map((l, i) => {
    const [, accountId, , locationId] = l.parent.split("/");
    return {
      branchId: `demo-${i + 1}`,
      name: l.title,
      accountId: accountId!,
      locationId: locationId!,
      managerEmail: `manager${i + 1}@demo.example`,
    };
  });
}

/** The stream names this deployment uses, and where its namespace came from (subscribers need both). */
function describeStreams(c: Readonly<Config>): string {
  const names = streamNames(c.nats.namespace, c.nats.workNamespace);
  const list = [names.fetch.stream, names.reviews.stream, names.deadLetters.stream, names.tokenEvents.stream].join(", ");
  const origin =
    process.env.NATS_NAMESPACE === undefined
      ? `work streams in namespace ${c.nats.workNamespace}, derived from DATABASE_URL; NATS_NAMESPACE sets one for all`
      : c.nats.namespace
        ? `NATS namespace ${c.nats.namespace}`
        : "NATS_NAMESPACE set empty: the unprefixed names";
  return `${list} (${origin}${c.nats.replicas > 1 ? `; ${c.nats.replicas} replicas each` : ""})`;
}

async function main(): Promise<number> {
  let p: Plan;
  try {
    p = plan();
  } catch (err) {
    // a bad variable (named, never its value) or a damaged .run/dev-secrets.json
    say(`✗ ${err instanceof ConfigError ? "configuration: " : ""}${(err as Error).message}`);
    return 1;
  }
  const c = p.config;
  say(`reviewflow: starting ${p.useEmulator ? "against the Google emulator" : `against Google at ${c.google.endpoints.authUrl}`}`);

  const problems = (await Promise.all([checkPostgres(c.postgres.url), checkNats(c.nats.url)])).filter((x) => x !== undefined);
  if (problems.length) {
    for (const problem of problems) say(formatProblem(problem));
    return 1;
  }
  say("✓ PostgreSQL and NATS JetStream answer");

  const services = serviceList(p);
  const busy = [];
  for (const s of services) if (await isPortOpen(s.port)) busy.push(`${s.name} port ${s.port}`);
  if (busy.length) {
    say(
      `✗ already in use: ${busy.join(", ")}. Is another npm start running? Stop it, or choose other ports (TOKEN_PORT, FETCHER_PORT, GATEWAY_PORT, EMULATOR_PORT).`,
    );
    return 1;
  }

  await prepareStorage(c);
  say(`✓ database migrated, streams ready: ${describeStreams(c)}`);

  const children: ChildService[] = [];
  let stopping = false;
  const stopAll = async (): Promise<boolean> => {
    let clean = true;
    for (const child of [...children].reverse()) {
      const info = await child.stop(10_000);
      const ok = info.code === 0 || info.signal === "SIGTERM" || info.signal === "SIGINT";
      if (!ok) clean = false;
      say(`  ${child.name} ${ok ? "stopped" : describeExit(info)}`);
    }
    return clean;
  };
  // a last resort if this process dies with children still running
  process.once("exit", () => {
    for (const child of children) {
      try {
        if (child.running()) process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });

  const shutdown = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        say(`${signal} again: killing everything`);
        for (const child of children) void child.kill();
        resolve(130);
        return;
      }
      stopping = true;
      say(`\n${signal}: stopping`);
      void stopAll().then((clean) => resolve(clean ? 0 : 1));
    };
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
    whenParentGone(() => {
      say("\nthe npm that ran this is gone: stopping");
      onSignal("SIGTERM");
    });
  });

  const crashed = new Promise<number>((resolve) => {
    // before everything is up a death is a start-up failure (a bad setting will not heal by
    // itself); after, the service is restarted with a growing wait (restart-policy.ts)
    let up = false;
    const trackers = new Map<string, RestartTracker>();
    const giveUp = async (child: ChildService, info: ExitInfo, why: string) => {
      stopping = true;
      say(`✗ ${child.name} ${describeExit(info)}${why}. Its last lines (${path.join(p.logDir, `${child.name}.log`)}):`);
      for (const line of child.recentLines().slice(-15)) say(`    ${line}`);
      await stopAll();
      resolve(1);
    };
    const watch = (s: (typeof services)[number], child: ChildService, startedAt: number) =>
      void child.exited.then(async (info) => {
        if (stopping) return;
        if (!up) return giveUp(child, info, "");
        if (!trackers.has(s.name)) trackers.set(s.name, new RestartTracker());
        const next = trackers.get(s.name)!.next(Date.now() - startedAt);
        if (!next) return giveUp(child, info, ` again, after ${DEFAULT_RESTART_POLICY.maxInARow} restarts in a row: giving up`);
        say(
          `! ${s.name} ${describeExit(info)}: restarting it in ${next.delayMs / 1000} s (restart ${next.attempt} in a row; its log: ${displayPath(path.join(p.logDir, `${s.name}.log`))})`,
        );
        await new Promise((r) => setTimeout(r, next.delayMs));
        if (stopping) return;
        const replacement = startOne(s, child);
        try {
          await waitUntilHealthy(s.name, s.probe, { child: replacement, timeoutMs: 90_000 });
          say(`✓ ${s.name} restarted, healthy on port ${s.port} (pid ${replacement.pid})`);
        } catch {
          // it died or hung again: its own exit is watched and decides what comes next
          if (replacement.running() && !stopping) void replacement.kill();
        }
      });
    const startOne = (s: (typeof services)[number], replacing?: ChildService) => {
      const child = startChildService({
        name: s.name,
        entry: s.entry,
        env: p.env,
        logFile: path.join(p.logDir, `${s.name}.log`),
        onLine: p.echoLogs ? (line) => process.stdout.write(`[${s.name}] ${line}\n`) : undefined,
      });
      // in the place of the one it replaces: the stop order stays the start order reversed
      const at = replacing ? children.indexOf(replacing) : -1;
      if (at >= 0) children[at] = child;
      else children.push(child);
      watch(s, child, Date.now());
      return child;
    };
    void (async () => {
      try {
        // all at once: storage is ready, so nothing is left for them to race over
        await Promise.all(
          services.map(async (s) => {
            const child = startOne(s);
            await waitUntilHealthy(s.name, s.probe, { child, timeoutMs: 90_000 });
            say(`✓ ${s.name} healthy on port ${s.port} (pid ${child.pid})`);
          }),
        );
        up = true;
        await afterStart(p);
      } catch (err) {
        if (stopping) return;
        stopping = true;
        if (err instanceof ServiceStartError) {
          say(`✗ ${err.message}. Its last lines:`);
          for (const line of err.logLines.slice(-15)) say(`    ${line}`);
        } else {
          say(`✗ ${(err as Error).message}`);
        }
        await stopAll();
        resolve(1);
      }
    })();
  });
  return Promise.race([shutdown, crashed]);
}

/**
 * Says in the terminal when the person has completed consent through the printed link (checked
 * every 2 s until then; the timer does not keep the launcher alive).
 */
function watchConsent(
  token: ReturnType<typeof createServiceClient<typeof TokenService>>,
  clientId: string,
  name: string,
  onConnected: () => void,
): void {
  const timer = setInterval(() => {
    void token.getConnectionStatus({ clientId }).then(
      (status) => {
        if (status.status !== ConnectionStatus.CONNECTED) return;
        clearInterval(timer);
        onConnected();
        say(`✓ ${name} connected to Google: the consent was completed. Create a job (the curl commands above) to fetch its reviews.`);
      },
      () => undefined, // the TokenService restarting or stopping: ask again next time
    );
  }, 2_000);
  timer.unref();
}

/** Seeds the demo, connects it, prints the next steps. */
async function afterStart(p: Plan): Promise<void> {
  const c = p.config;
  const token = createServiceClient(TokenService, `http://127.0.0.1:${c.token.port}`, { apiKey: p.env.ADMIN_API_KEY });
  let demo: Parameters<typeof formatNextSteps>[0]["demo"];
  const emulatorUrl = p.useEmulator ? `http://127.0.0.1:${c.emulator.port}` : undefined;
  const googleClient = emulatorUrl
    ? DEMO_GOOGLE_CLIENT
    : p.env.GOOGLE_CLIENT_ID && p.env.GOOGLE_CLIENT_SECRET
      ? { id: p.env.GOOGLE_CLIENT_ID, secret: p.env.GOOGLE_CLIENT_SECRET }
      : undefined;
  if (googleClient) {
    const seed = await seedDemo(token, {
      tenantName: "demo",
      // a client for the real Google is the person's own OAuth client: named by its id, not "demo"
      clientName: emulatorUrl ? "Demo client (emulated Google)" : `Google OAuth client ${googleClient.id.split(".")[0]}`,
      googleClientId: googleClient.id,
      clientSecret: googleClient.secret,
      redirectUri: `${c.gateway.publicUrl}/auth/callback`,
      branches: emulatorUrl ? await demoBranches(emulatorUrl) : [],
      resealSecret: p.freshEncryptionKey,
    });
    say(`✓ demo data ${seed.created.length ? `created: ${seed.created.join(", ")}` : "reused from the last start"}`);
    if (seed.resealed)
      say(
        `! ${displayPath(path.join(p.runDir, "dev-secrets.json"))} was made afresh but the database holds an earlier start's demo client: its secret is sealed again with the new key, and it consents again`,
      );
    // CONNECTED says nothing of which Google granted it: a grant from the emulator (or of unknown
    // origin) is no connection to the real Google, so that one is revoked and asked for again
    const origins = loadGrantOrigins(p.runDir);
    const google = c.google.endpoints.authUrl;
    const otherGoogle = !p.useEmulator && !grantedBy(origins, seed.client.id, google);
    if (otherGoogle && (await token.getConnectionStatus({ clientId: seed.client.id })).status === ConnectionStatus.CONNECTED) {
      say(
        `! client ${seed.client.name} holds a grant from ${origins.get(seed.client.id) ?? "another Google (the emulator?)"}, not from ${google}: it is dropped and the client consents again`,
      );
      await token
        .revokeToken({ clientId: seed.client.id })
        .catch((err: unknown) => say(`  (revoking it failed: ${(err as Error).message})`));
    }
    // a refresh token sealed with the lost key is unreadable too: consent again for a new one
    const outcome: ConsentOutcome = await connectThroughConsent(token, seed.client.id, {
      force: p.useEmulator || seed.resealed || otherGoogle,
    });
    say(
      outcome.kind === "connected"
        ? `✓ ${seed.client.name} connected through the consent flow`
        : outcome.kind === "already-connected"
          ? `✓ ${seed.client.name} already connected`
          : `! ${seed.client.name} needs a person to consent (link below)`,
    );
    if (outcome.kind !== "needs-person") origins.record(seed.client.id, google);
    else watchConsent(token, seed.client.id, seed.client.name, () => origins.record(seed.client.id, google));
    demo = {
      tenantId: seed.tenantId,
      clientId: seed.client.id,
      googleClientId: googleClient.id,
      branchIds: seed.branches.map((b) => b.branchId),
      connected: outcome.kind !== "needs-person",
      loginUrl: outcome.kind === "needs-person" ? outcome.loginUrl : undefined,
      redirectUri: seed.client.redirectUri,
    };
  } else {
    say("! no emulator and no GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET: no demo client was registered");
  }
  say(
    formatNextSteps({
      adminKey: p.env.ADMIN_API_KEY!,
      adminKeySource: p.adminKeySource,
      gatewayUrl: `http://localhost:${c.gateway.port}`,
      tokenPort: c.token.port,
      fetcherPort: c.fetcher.port,
      gatewayPort: c.gateway.port,
      emulatorUrl,
      logDir: displayPath(p.logDir),
      natsUrl: c.nats.url,
      natsNamespace: c.nats.namespace,
      demo,
    }),
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`✗ npm start failed: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  },
);

/**
 * npm runs this under `sh -c`. A SIGTERM sent to npm (`kill <npm's pid>`, a process manager's stop)
 * reaches that shell, which dies without passing it on, so this launcher and its four services
 * ran on with their ports, orphaned. Under npm, a parent that is gone counts as SIGTERM. Started
 * any other way, the parent is not watched: a script may well start this in the background and exit.
 */
function whenParentGone(stop: () => void): void {
  if (process.env.npm_lifecycle_event) whenParentIsNot(process.ppid, stop);
}
