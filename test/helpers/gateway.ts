// Fixtures for the gateway's tests: API keys in a test database, stand-in services (real
// interceptors and auth, canned answers) for the tests of the gateway's own behaviour, and a
// gateway on a real port. The end-to-end tests use the real TokenService and ReviewFetcher.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import { FetchJobSchema, JobStatus, ReviewFetcher, type FetchJob } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ClientSchema, ConnectionStatus } from "../../gen/reviewflow/token/v1/resources_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import {
  callerOf,
  canSee,
  createApiKeyStore,
  mintApiKey,
  requireRole,
  tenantScope,
  TOKEN_READ_ROLES,
  WRITE_ROLES,
} from "../../lib/auth/index.js";
import { CONSENT_FAILURE_METADATA } from "../../lib/consent/failures.js";
import { ApiKeyRow, TenantRow, type RoleName } from "../../lib/db/index.js";
import type { Logger } from "../../lib/log/index.js";
import { createRpcServer, createStandardInterceptors, type RpcServer } from "../../lib/rpc/index.js";
import { DomainError, NotFoundError, ResourceExhaustedError } from "../../lib/errors/index.js";
import { TEST_ADMIN_KEY, testConfig } from "./index.js";
import { createGatewayService, type GatewayServiceInstance, type GatewayServiceOptions } from "../../services/gateway/server.js";

export interface TestKeys {
  tenantA: string;
  tenantB: string;
  admin: string;
  operatorA: string;
  readerA: string;
  serviceA: string;
  operatorB: string;
  /** Mints one more key (e.g. one a test may spend entirely). */
  mint(role: RoleName, tenantId: string | null): Promise<string>;
}

export async function seedKeys(dataSource: DataSource): Promise<TestKeys> {
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  await dataSource.getRepository(TenantRow).insert([
    { id: tenantA, name: `a-${tenantA}` },
    { id: tenantB, name: `b-${tenantB}` },
  ]);
  const mint = async (role: RoleName, tenantId: string | null) => {
    const key = mintApiKey();
    await dataSource
      .getRepository(ApiKeyRow)
      .insert({ id: key.id, tenantId, role, name: role, secretHash: key.secretHash, revokedAt: null });
    return key.key;
  };
  return {
    tenantA,
    tenantB,
    admin: TEST_ADMIN_KEY,
    operatorA: await mint("operator", tenantA),
    readerA: await mint("reader", tenantA),
    serviceA: await mint("service", tenantA),
    operatorB: await mint("operator", tenantB),
    mint,
  };
}

export const GOOD_LINK = "good-link-0123456789abcdef";
export const GOOD_STATE = "good-state";
export const BUSY_BRANCH = "busy";

/** What the stand-in services hold: clients by id (with their tenant) and jobs by id. */
export interface FakeWorld {
  clients: Map<string, { tenantId: string; name: string }>;
  jobs: Map<string, FetchJob>;
  /** How long ListStages takes (to test deadlines). */
  slowMs: number;
  /** Pause between WatchFetchJob's messages. */
  watchStepMs: number;
}

/**
 * Stand-ins for TokenService and ReviewFetcher with the real interceptor chain (API keys,
 * roles, protovalidate) and canned answers: enough to test what the gateway itself does.
 */
export function createFakeServices(dataSource: DataSource, logger: Logger): { server: RpcServer; world: FakeWorld } {
  const world: FakeWorld = { clients: new Map(), jobs: new Map(), slowMs: 0, watchStepMs: 40 };
  const clientMessage = (id: string) => {
    const c = world.clients.get(id)!;
    return create(ClientSchema, { id, tenantId: c.tenantId, name: c.name, status: ConnectionStatus.CONNECTED, createTime: timestampNow() });
  };
  const routes = (router: ConnectRouter) => {
    router.service(TokenService, {
      createClient(req, ctx) {
        const caller = callerOf(ctx);
        requireRole(caller, WRITE_ROLES, "create clients");
        const id = randomUUID();
        world.clients.set(id, { tenantId: req.tenantId || caller.tenantId || "", name: req.name });
        return { client: clientMessage(id) };
      },
      getClient(req, ctx) {
        const found = world.clients.get(req.id);
        if (!found || !canSee(callerOf(ctx), found.tenantId)) throw new NotFoundError("client", req.id);
        return { client: clientMessage(req.id) };
      },
      listClients(_req, ctx) {
        const scope = tenantScope(callerOf(ctx));
        return {
          clients: [...world.clients.keys()].filter((id) => !scope || world.clients.get(id)!.tenantId === scope).map(clientMessage),
        };
      },
      validateToken(req, ctx) {
        requireRole(callerOf(ctx), TOKEN_READ_ROLES, "read access tokens");
        if (!world.clients.has(req.clientId)) throw new NotFoundError("client", req.clientId);
        return {
          accessToken: "ya29.fake-access-token",
          tokenType: "Bearer",
          expireTime: timestampFromDate(new Date(Date.now() + 3_600_000)),
        };
      },
      startOAuth(req, ctx) {
        const found = world.clients.get(req.clientId);
        if (!found || !canSee(callerOf(ctx), found.tenantId)) throw new NotFoundError("client", req.clientId);
        return {
          authorizationUrl: "https://accounts.example/o/oauth2/v2/auth?state=s1",
          loginUrl: `/oauth/login/${req.clientId}?link=${GOOD_LINK}`,
          state: "s1",
        };
      },
      openLoginLink(req) {
        // like the real TokenService: the reason travels as metadata beside the message
        if (req.link !== GOOD_LINK)
          throw new DomainError(Code.FailedPrecondition, "this login link is unknown, used or expired", {
            [CONSENT_FAILURE_METADATA]: "link_unknown",
          });
        return { authorizationUrl: `https://accounts.example/o/oauth2/v2/auth?client=${req.clientId}&state=s1` };
      },
      completeOAuth(req) {
        if (req.state !== GOOD_STATE)
          throw new DomainError(Code.FailedPrecondition, "the consent state is unknown, used or expired", {
            [CONSENT_FAILURE_METADATA]: "state_unknown",
          });
        const id = [...world.clients.keys()][0];
        return { client: clientMessage(id), token: { clientId: id, status: ConnectionStatus.CONNECTED } };
      },
    });
    router.service(ReviewFetcher, {
      createFetchJob(req, ctx) {
        const caller = callerOf(ctx);
        if (req.target.case === "branchId" && req.target.value === BUSY_BRANCH)
          throw new ResourceExhaustedError("the admission queue is full", 7);
        const job = create(FetchJobSchema, {
          jobId: randomUUID(),
          tenantId: caller.tenantId ?? "",
          status: JobStatus.QUEUED,
          mode: req.mode,
          createTime: timestampNow(),
        });
        if (req.target.case === "clientId") job.clientId = req.target.value;
        world.jobs.set(job.jobId, job);
        return { jobId: job.jobId, status: job.status, job };
      },
      getFetchJob(req, ctx) {
        const job = world.jobs.get(req.jobId);
        if (!job || !canSee(callerOf(ctx), job.tenantId)) throw new NotFoundError("job", req.jobId);
        return { job };
      },
      async *watchFetchJob(req, ctx) {
        const job = world.jobs.get(req.jobId);
        if (!job || !canSee(callerOf(ctx), job.tenantId)) throw new NotFoundError("job", req.jobId);
        yield { job };
        for (const [status, pages] of [
          [JobStatus.RUNNING, 1],
          [JobStatus.RUNNING, 2],
          [JobStatus.SUCCEEDED, 3],
        ] as const) {
          await sleep(world.watchStepMs, undefined, { signal: ctx.signal });
          yield {
            job: create(FetchJobSchema, {
              jobId: job.jobId,
              tenantId: job.tenantId,
              status,
              counters: { pages: BigInt(pages), accounts: 1n },
            }),
          };
        }
      },
      listReviews(req) {
        // echoes what it was asked, so tests can see how the gateway decoded a query string
        const echo = {
          location_id: req.locationId,
          client_id: req.clientId,
          page_size: req.pageSize,
          min_rating: req.minRating,
          updated_after: req.updatedAfter ? Number(req.updatedAfter.seconds) : null,
        };
        return { reviews: [], nextPageToken: JSON.stringify(echo) };
      },
      async listStages(_req, ctx) {
        await sleep(world.slowMs, undefined, { signal: ctx.signal }).catch(() => undefined);
        return { stages: [] };
      },
    });
  };
  const server = createRpcServer({
    services: [TokenService, ReviewFetcher],
    routes,
    interceptors: createStandardInterceptors({
      logger,
      authenticator: createApiKeyStore({ dataSource, bootstrapAdminKey: TEST_ADMIN_KEY }),
    }),
    logger,
  });
  return { server, world };
}

/** A gateway on a real port in front of the services at `upstreamUrl` (both of them) or the given URLs. */
export async function startTestGateway(options: {
  dataSource: DataSource;
  logger: Logger;
  tokenServiceUrl: string;
  fetcherServiceUrl: string;
  env?: Record<string, string>;
  deps?: Partial<GatewayServiceOptions>;
}): Promise<{ gateway: GatewayServiceInstance; url: string }> {
  const config = testConfig({
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    TOKEN_SERVICE_URL: options.tokenServiceUrl,
    FETCHER_SERVICE_URL: options.fetcherServiceUrl,
    GATEWAY_RATE_PER_KEY: "100000",
    GATEWAY_RATE_PER_TENANT: "100000",
    GATEWAY_RATE_PER_IP: "100000",
    GATEWAY_SSE_KEEPALIVE_MS: "15",
    ...options.env,
  });
  const gateway = createGatewayService({ config, dataSource: options.dataSource, logger: options.logger, ...options.deps });
  const port = await gateway.start(0);
  return { gateway, url: `http://127.0.0.1:${port}` };
}

/** A gateway on a real port in front of stand-in services, with keys, a client and a job of tenant A. */
export interface StandInGateway {
  gateway: GatewayServiceInstance;
  base: string;
  upstreamUrl: string;
  fakes: { server: RpcServer; world: FakeWorld };
  keys: TestKeys;
  clientA: string;
  jobA: string;
  close(): Promise<void>;
}

/** Starts a `StandInGateway`: stand-in services, then a gateway configured with `env`, then tenant A's client and job made through it. */
export async function startStandInGateway(options: {
  dataSource: DataSource;
  logger: Logger;
  env?: Record<string, string>;
}): Promise<StandInGateway> {
  const keys = await seedKeys(options.dataSource);
  const fakes = createFakeServices(options.dataSource, options.logger);
  const upstreamUrl = `http://127.0.0.1:${await fakes.server.listen(0)}`;
  const { gateway, url: base } = await startTestGateway({ ...options, tokenServiceUrl: upstreamUrl, fetcherServiceUrl: upstreamUrl });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${keys.operatorA}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, any>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const clientA = (
    await post("/clients", { name: "Branch A", google_client_id: "g", client_secret: "s", redirect_uri: "https://x.example/cb" })
  ).client.id as string;
  const jobA = (await post("/api/v1/review-fetch", { client_id: clientA })).job_id as string;
  return {
    gateway,
    base,
    upstreamUrl,
    fakes,
    keys,
    clientA,
    jobA,
    async close() {
      await gateway.stop();
      await fakes.server.close();
    },
  };
}

/** Parses a Server-Sent Events body into its events (comments kept apart, as `comment` events). */
export function parseSse(text: string): { event: string; data: string; id?: string }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      if (lines.every((l) => l.startsWith(":"))) return { event: "comment", data: lines.join("\n") };
      const field = (name: string) =>
        lines
          .filter((l) => l.startsWith(`${name}:`))
          .map((l) => l.slice(name.length + 1).trimStart())
          .join("\n");
      return { event: field("event") || "message", data: field("data"), id: field("id") || undefined };
    })
    .filter((e) => !(e.event === "message" && e.data === "" && e.id === undefined));
}
