import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { ConnectionStatus } from "../../gen/reviewflow/token/v1/resources_pb.js";
import { TokenEventType } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import {
  admin,
  as,
  connect,
  consentAt,
  createOAuthClient,
  createTenant,
  nextTokenEvent,
  OTHER_CLIENT,
  REDIRECT_URI,
  rejects,
  useTokenEnv,
} from "../../test/helpers/token-service.js";

const code = (err: unknown) => ConnectError.from(err).code;
describe("TokenService consent flow", () => {
  const env = useTokenEnv();
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  before(async () => {
    tenant = await createTenant(env.api[0], "consent-tenant");
  });

  it("connects a client: StartOAuth, Google's consent, CompleteOAuth", async () => {
    const api = env.api[0];
    const clientId = await createOAuthClient(api, tenant.operator);
    const started = await api.startOAuth({ clientId }, as(tenant.operator));
    const url = new URL(started.authorizationUrl);
    assert.equal(`${url.origin}${url.pathname}`, `${env.emulator.url}/o/oauth2/v2/auth`);
    assert.equal(url.searchParams.get("access_type"), "offline");
    assert.equal(url.searchParams.get("prompt"), "consent");
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.match(url.searchParams.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url.searchParams.get("state"), started.state);
    assert.equal(url.searchParams.get("redirect_uri"), REDIRECT_URI);
    assert.match(url.searchParams.get("scope") ?? "", /business\.manage/);
    assert.match(started.loginUrl, new RegExp(`^http://gateway\\.test/oauth/login/${clientId}\\?link=[A-Za-z0-9_-]{43}$`));
    const stateTtl = Number(started.expiresAt!.seconds) * 1000 - env.clock.now();
    assert.ok(stateTtl > 9 * 60_000 && stateTtl <= 10 * 60_000, `state lives ${stateTtl} ms`);

    const { code: authCode, state } = await consentAt(started.authorizationUrl);
    const done = await api.completeOAuth({ code: authCode, state });
    assert.equal(done.client?.status, ConnectionStatus.CONNECTED);
    assert.equal(done.token?.hasRefreshToken, true);
    assert.ok(done.token?.scopes.includes("https://www.googleapis.com/auth/business.manage"));
    assert.equal((await api.getConnectionStatus({ clientId }, as(tenant.reader))).status, ConnectionStatus.CONNECTED);
    assert.equal(env.emulator.controls.stats().grants[OTHER_CLIENT.id], undefined);

    const event = await nextTokenEvent(env.streams, clientId, "connected");
    assert.equal(event.type, TokenEventType.CONNECTED);
    assert.equal(event.tenantId, tenant.id);
  });

  it("rejects a reused state", async () => {
    const api = env.api[0];
    const clientId = await createOAuthClient(api, tenant.operator, OTHER_CLIENT, "reuse");
    const started = await api.startOAuth({ clientId }, as(tenant.operator));
    const first = await consentAt(started.authorizationUrl);
    await api.completeOAuth(first);
    const second = await consentAt(started.authorizationUrl);
    await rejects(api.completeOAuth(second), Code.InvalidArgument, /state was already used/);
  });

  it("rejects an expired state", async () => {
    const api = env.api[0];
    const clientId = await createOAuthClient(api, tenant.operator, OTHER_CLIENT, "expired");
    const started = await api.startOAuth({ clientId }, as(tenant.operator));
    const consent = await consentAt(started.authorizationUrl);
    env.clock.advance(10 * 60_000 + 1);
    await rejects(api.completeOAuth(consent), Code.InvalidArgument, /state expired at/);
  });

  it("rejects an unknown state", async () => {
    await rejects(env.api[0].completeOAuth({ code: "4/0-some-code", state: "made-up-state" }), Code.InvalidArgument, /state is unknown/);
  });

  it("exchanges the code with the client the state names, so another client's code fails", async () => {
    const api = env.api[0];
    const mine = await createOAuthClient(api, tenant.operator, OTHER_CLIENT, "mine");
    const other = await createTenant(api, "other-consent-tenant");
    const theirs = await createOAuthClient(api, other.operator);
    const myStart = await api.startOAuth({ clientId: mine }, as(tenant.operator));
    const theirStart = await api.startOAuth({ clientId: theirs }, as(other.operator));
    const theirConsent = await consentAt(theirStart.authorizationUrl);
    // their code with my state: Google refuses, since the code was issued to another OAuth client
    await rejects(
      api.completeOAuth({ code: theirConsent.code, state: myStart.state }),
      Code.InvalidArgument,
      /Google rejected the authorization code/,
    );
    assert.equal((await api.getConnectionStatus({ clientId: mine }, as(tenant.operator))).status, ConnectionStatus.NOT_CONNECTED);
    assert.equal((await api.getConnectionStatus({ clientId: theirs }, as(other.operator))).status, ConnectionStatus.NOT_CONNECTED);
  });

  it("fails PKCE when the code was obtained with another challenge", async () => {
    const api = env.api[0];
    const clientId = await createOAuthClient(api, tenant.operator, OTHER_CLIENT, "pkce");
    const started = await api.startOAuth({ clientId }, as(tenant.operator));
    // an attacker swaps the challenge for one of their own verifier: our stored verifier no longer matches
    const tampered = new URL(started.authorizationUrl);
    const attackerVerifier = randomBytes(32).toString("base64url");
    tampered.searchParams.set("code_challenge", createHash("sha256").update(attackerVerifier).digest("base64url"));
    const consent = await consentAt(tampered.toString());
    await rejects(api.completeOAuth(consent), Code.InvalidArgument, /PKCE verifier does not match/);
  });

  it("redeems a login link once, handing out a fresh authorization URL", async () => {
    const api = env.api[0];
    const clientId = await createOAuthClient(api, tenant.operator, OTHER_CLIENT, "link");
    const started = await api.startOAuth({ clientId }, as(tenant.operator));
    const link = new URL(started.loginUrl).searchParams.get("link")!;
    const opened = await api.openLoginLink({ clientId, link });
    const state = new URL(opened.authorizationUrl).searchParams.get("state");
    assert.ok(state && state !== started.state);
    await rejects(api.openLoginLink({ clientId, link }), Code.InvalidArgument, /login link was already used/);
    const consent = await consentAt(opened.authorizationUrl);
    assert.equal((await api.completeOAuth(consent)).client?.status, ConnectionStatus.CONNECTED);
  });

  it("refuses a login link for another client, an unknown one and an expired one", async () => {
    const api = env.api[0];
    const a = await createOAuthClient(api, tenant.operator, OTHER_CLIENT, "link-a");
    const b = await createOAuthClient(api, tenant.operator, { id: "b.apps.googleusercontent.com", secret: "x" }, "link-b");
    const started = await api.startOAuth({ clientId: a }, as(tenant.operator));
    const link = new URL(started.loginUrl).searchParams.get("link")!;
    await rejects(api.openLoginLink({ clientId: b, link }), Code.InvalidArgument, /login link is unknown/);
    await rejects(api.openLoginLink({ clientId: a, link: "x".repeat(43) }), Code.InvalidArgument, /login link is unknown/);
    env.clock.advance(30 * 60_000 + 1);
    await rejects(api.openLoginLink({ clientId: a, link }), Code.InvalidArgument, /login link expired/);
  });

  it("lets only writers start consent, and only for clients they can see", async () => {
    const api = env.api[0];
    const clientId = await createOAuthClient(api, tenant.operator, OTHER_CLIENT, "roles");
    const other = await createTenant(api, "consent-outsider");
    await rejects(api.startOAuth({ clientId }, as(tenant.reader)), Code.PermissionDenied, /reader/);
    await rejects(api.startOAuth({ clientId }, as(other.operator)), Code.NotFound, /client/);
    await rejects(api.startOAuth({ clientId }), Code.Unauthenticated, /API key/);
    assert.ok((await api.startOAuth({ clientId }, admin)).authorizationUrl);
  });

  it("validates input before anything else", async () => {
    const api = env.api[0];
    await rejects(api.completeOAuth({ code: "", state: "s" }), Code.InvalidArgument, /code/);
    await rejects(api.openLoginLink({ clientId: "not-a-uuid", link: "x".repeat(20) }), Code.InvalidArgument, /client_id/);
    await rejects(
      api.startOAuth({ clientId: "8e3a7f9c-0000-4000-8000-000000000000" }, admin),
      Code.NotFound,
      /client "8e3a7f9c-0000-4000-8000-000000000000" not found/,
    );
    assert.equal(code(await api.startOAuth({ clientId: "x" }, admin).catch((e: unknown) => e)), Code.InvalidArgument);
  });

  it("connects through the real flow end to end with connect()", async () => {
    const api = env.api[0];
    const third = await createTenant(api, "consent-third");
    const clientId = await createOAuthClient(api, third.operator);
    await connect(api, third.operator, clientId);
    assert.equal((await api.getTokenInfo({ clientId }, as(third.reader))).token?.status, ConnectionStatus.CONNECTED);
  });
});
