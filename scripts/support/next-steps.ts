// What `npm start` prints once everything is up: where things are, the admin key, and commands
// to copy. Tests parse the indented lines under "Try it with curl:" and run them, so every
// command here must work as printed.
export interface NextStepsInput {
  adminKey: string;
  adminKeySource: string;
  gatewayUrl: string;
  tokenPort: number;
  fetcherPort: number;
  gatewayPort: number;
  emulatorUrl?: string;
  logDir: string;
  natsUrl: string;
  natsNamespace: string;
  demo?: {
    tenantId: string;
    clientId: string;
    googleClientId: string;
    branchIds: string[];
    connected: boolean;
    loginUrl?: string;
    redirectUri?: string;
  };
}

const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`;
}

export function formatNextSteps(input: NextStepsInput): string {
  const g = input.gatewayUrl;
  const auth = `-H "authorization: Bearer $RF_KEY"`;
  const lines: string[] = [];
  const section = (title: string, body: string[]) => lines.push("", title, ...body.map((l) => `    ${l}`));

  lines.push(
    "reviewflow is running. Ctrl-C stops everything.",
    "",
    `  Gateway (REST, Connect, gRPC-Web)   ${g}   (OpenAPI: ${g}/openapi.json, readiness: ${g}/ready)`,
    `  Operator console (browser)          ${g}/console   (sign in with an API key, e.g. the admin key below)`,
    `  API docs (browser, Swagger UI)      ${g}/docs`,
    `  TokenService (gRPC, h2c)            localhost:${input.tokenPort}`,
    `  ReviewFetcher (gRPC, h2c)           localhost:${input.fetcherPort}`,
  );
  if (input.emulatorUrl)
    lines.push(`  Google emulator                     ${input.emulatorUrl}   (controls: ${input.emulatorUrl}/_emulator/stats)`);
  lines.push(
    `  Prometheus metrics                  ${g}/metrics, http://localhost:${input.fetcherPort}/metrics, http://localhost:${input.tokenPort}/metrics`,
    `  Logs (JSON lines)                   ${input.logDir}/`,
    "",
    `  Admin API key (development only; ${input.adminKeySource}):`,
    `    ${input.adminKey}`,
  );
  const demo = input.demo;
  if (demo) {
    lines.push(
      "",
      `  Demo tenant ${demo.tenantId}, client ${demo.clientId} (${demo.googleClientId}, ${demo.connected ? "connected" : "NOT connected yet"}),`,
      `  branches ${demo.branchIds.join(", ") || "(none)"}`,
    );
    if (!demo.connected && demo.loginUrl) {
      lines.push("", "  Open this one-time link in a browser to connect the demo client to Google:", `    ${demo.loginUrl}`);
      if (demo.redirectUri) lines.push(`  (Google must list ${demo.redirectUri} as an authorized redirect URI of that OAuth client.)`);
    }
  }

  const clientId = demo?.clientId ?? "<client id>";
  const fetchBody = shellQuote(JSON.stringify({ client_id: clientId }));
  section("Try it with curl:", [
    `export RF_KEY=${shellQuote(input.adminKey)}`,
    `JOB_ID=$(curl -s ${auth} -H 'content-type: application/json' -d ${fetchBody} ${g}/api/v1/review-fetch | sed -E 's/.*"job_id":"([^"]+)".*/\\1/'); echo "job $JOB_ID"`,
    `curl -s ${auth} ${g}/api/v1/jobs/$JOB_ID`,
    `curl -s ${auth} '${g}/api/v1/reviews?client_id=${clientId}&page_size=3'`,
    `curl -s ${auth} ${g}/branches`,
  ]);
  section("gRPC with grpcurl (a release binary: Debian does not package it):", [
    `grpcurl -plaintext ${auth} localhost:${input.tokenPort} list`,
    `grpcurl -plaintext ${auth} localhost:${input.fetcherPort} describe reviewflow.fetcher.v1.ReviewFetcher`,
    `grpcurl -plaintext ${auth} -d ${fetchBody} localhost:${input.fetcherPort} reviewflow.fetcher.v1.ReviewFetcher/CreateFetchJob`,
    `grpcurl -plaintext ${auth} localhost:${input.fetcherPort} reviewflow.fetcher.v1.ReviewFetcher/ListStages`,
  ]);
  section("... or with buf curl, which npm install already brought:", [
    `npx buf curl --http2-prior-knowledge --protocol grpc --list-services http://localhost:${input.tokenPort}`,
    `npx buf curl --http2-prior-knowledge --protocol grpc ${auth} -d ${fetchBody} http://localhost:${input.fetcherPort}/reviewflow.fetcher.v1.ReviewFetcher/ListFetchJobs`,
  ]);
  const natsEnv = [
    input.natsUrl !== DEFAULT_NATS_URL ? `NATS_URL=${shellQuote(input.natsUrl)}` : "",
    input.natsNamespace ? `NATS_NAMESPACE=${shellQuote(input.natsNamespace)}` : "",
  ].filter(Boolean);
  section("Watch review events arrive on JetStream (JSON lines; run it, then create a job):", [
    `${natsEnv.length ? `${natsEnv.join(" ")} ` : ""}npm run reviews:tail -- --from-start`,
  ]);
  lines.push("", '  Copyable subscriber: examples/subscriber.ts. Operator guide: README.md, "Operating reviewflow".', "");
  return lines.join("\n");
}
