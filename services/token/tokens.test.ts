import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { TokenEventType } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import { ConnectionStatus } from "../../gen/reviewflow/token/v1/resources_pb.js";
import {
  admin,
  as,
  connect,
  createOAuthClient,
  createTenant,
  eventually,
  GOOGLE_CLIENTS,
  nextTokenEvent,
  rejects,
  useTokenEnv,
} from "../../test/helpers/token-service.js";

const HOUR_MS = 3_599_000; // the emulator's token lifetime
const WINDOW_MS = 300_000;

describe("TokenService tokens", () => {
  // two instances with their own pools, as two processes against one database
  const env = useTokenEnv({ instances: 2, settings: { cooldownBaseMs: 60_000 } });
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let nextGoogleClient = 0;

  before(async () => {
    tenant = await createTenant(env.api[0], "tokens-tenant");
  });

  /** A connected client on a Google project of its own, so its grant counts are its own. */
  async function connectedClient() {
    const google = GOOGLE_CLIENTS[nextGoogleClient++];
    const clientId = await createOAuthClient(env.api[0], tenant.operator, google, `client-${nextGoogleClient}`);
    await connect(env.api[0], tenant.operator, clientId);
    const grants = () => env.emulator.controls.stats().grants[google.id] ?? { authorization_code: 0, refresh_token: 0 };
    const tokenRequests = () => env.emulator.controls.stats().byProject[google.id]?.token ?? 0;
    return { clientId, google, grants, tokenRequests };
  }

  /** Moves time so the client's current token has `leftMs` to live (tokens were issued just now). */
  const leaving = (leftMs: number) => env.clock.advance(HOUR_MS - leftMs);

  describe("ValidateToken", () => {
    it("returns the stored token while it has more than the window left, without calling Google", async () => {
      const { clientId, grants } = await connectedClient();
      const first = await env.api[0].validateToken({ clientId }, as(tenant.service));
      const second = await env.api[1].validateToken({ clientId }, admin);
      assert.equal(first.accessToken, second.accessToken);
      assert.match(first.accessToken, /^ya29\./);
      assert.equal(first.tokenType, "Bearer");
      assert.equal(first.refreshed, false);
      assert.ok(timestampDate(first.expireTime!).getTime() - env.clock.now() > WINDOW_MS);
      assert.equal(grants().refresh_token, 0);
    });

    it("refreshes a token that expires within the window", async () => {
      const { clientId, grants } = await connectedClient();
      const before = await env.api[0].validateToken({ clientId }, as(tenant.service));
      leaving(WINDOW_MS - 60_000);
      const after = await env.api[0].validateToken({ clientId }, as(tenant.service));
      assert.equal(after.refreshed, true);
      assert.notEqual(after.accessToken, before.accessToken);
      assert.ok(timestampDate(after.expireTime!).getTime() - env.clock.now() > WINDOW_MS);
      assert.equal(grants().refresh_token, 1);
      const event = await nextTokenEvent(env.streams, clientId, "refreshed");
      assert.equal(event.type, TokenEventType.REFRESHED);
    });

    it("refreshes once for 2 instances x 50 concurrent callers on an expiring token", async () => {
      const { clientId, grants } = await connectedClient();
      leaving(WINDOW_MS - 100_000);
      const calls = env.api.flatMap((api) => Array.from({ length: 50 }, () => api.validateToken({ clientId }, as(tenant.service))));
      const answers = await Promise.all(calls);
      assert.equal(grants().refresh_token, 1);
      assert.equal(new Set(answers.map((a) => a.accessToken)).size, 1);
      const info = await env.api[1].getTokenInfo({ clientId }, as(tenant.reader));
      assert.equal(info.token?.refreshCount, 1n);
    });

    it("answers FAILED_PRECONDITION, not INTERNAL, when a stored token cannot be decrypted", async () => {
      const { clientId } = await connectedClient();
      // a ciphertext moved to another column fails authentication (its associated data differs)
      await env.dataSource.query("UPDATE tokens SET access_token = refresh_token WHERE client_id = $1", [clientId]);
      await rejects(
        env.api[0].validateToken({ clientId }, as(tenant.service)),
        Code.FailedPrecondition,
        /access token of client .* cannot be decrypted/,
      );
    });

    it("answers FAILED_PRECONDITION for a client that never connected", async () => {
      const clientId = await createOAuthClient(env.api[0], tenant.operator, GOOGLE_CLIENTS[19], "unconnected");
      await rejects(
        env.api[0].validateToken({ clientId }, as(tenant.service)),
        Code.FailedPrecondition,
        /is not connected: complete the consent flow/,
      );
    });

    it("lets only admin and service keys read a token, and only their tenant's", async () => {
      const { clientId } = await connectedClient();
      const outsider = await createTenant(env.api[0], "tokens-outsider");
      await rejects(env.api[0].validateToken({ clientId }, as(tenant.operator)), Code.PermissionDenied, /may not read access tokens/);
      await rejects(env.api[0].validateToken({ clientId }, as(tenant.reader)), Code.PermissionDenied, /may not read access tokens/);
      await rejects(
        env.api[0].validateToken({ clientId }, as(outsider.service)),
        Code.NotFound,
        new RegExp(`client "${clientId}" not found`),
      );
      // also once the token sits in this instance's cache
      await env.api[0].validateToken({ clientId }, as(tenant.service));
      await rejects(env.api[0].validateToken({ clientId }, as(outsider.service)), Code.NotFound, /not found/);
      await rejects(env.api[0].getTokenInfo({ clientId }, as(outsider.reader)), Code.NotFound, /not found/);
      await rejects(env.api[0].validateToken({ clientId: "00000000-0000-4000-8000-000000000000" }, admin), Code.NotFound, /not found/);
      await rejects(env.api[0].validateToken({ clientId: "nope" }, admin), Code.InvalidArgument, /client_id/);
    });
  });

  describe("RefreshToken", () => {
    it("keeps the stored refresh token when Google's answer omits it", async () => {
      const { clientId, grants } = await connectedClient();
      const sealedBefore = await sealedRefreshToken(clientId);
      const first = await env.api[0].refreshToken({ clientId }, as(tenant.operator));
      const second = await env.api[1].refreshToken({ clientId }, as(tenant.service));
      assert.equal(grants().refresh_token, 2);
      assert.equal(first.token?.refreshCount, 1n);
      assert.equal(second.token?.refreshCount, 2n);
      assert.equal(second.token?.hasRefreshToken, true);
      assert.equal(await sealedRefreshToken(clientId), sealedBefore);
      await rejects(env.api[0].refreshToken({ clientId }, as(tenant.reader)), Code.PermissionDenied, /reader/);
    });

    async function sealedRefreshToken(clientId: string): Promise<string> {
      const rows = (await env.dataSource.query("SELECT refresh_token FROM tokens WHERE client_id = $1", [clientId])) as {
        refresh_token: string;
      }[];
      return rows[0].refresh_token;
    }
  });

  describe("when Google refuses the refresh token (invalid_grant)", () => {
    it("marks the client needs_reauth, publishes an event and answers FAILED_PRECONDITION without asking Google again", async () => {
      const { clientId, google, tokenRequests } = await connectedClient();
      env.emulator.controls.revokeGrants({ client_id: google.id });
      leaving(WINDOW_MS - 60_000);
      await rejects(
        env.api[0].validateToken({ clientId }, as(tenant.service)),
        Code.FailedPrecondition,
        new RegExp(`client ${clientId} needs re-consent: .*invalid_grant`),
      );
      const status = await env.api[1].getConnectionStatus({ clientId }, as(tenant.reader));
      assert.equal(status.status, ConnectionStatus.NEEDS_REAUTH);
      assert.match(status.reason, /invalid_grant/);
      const event = await nextTokenEvent(env.streams, clientId, "needs_reauth");
      assert.equal(event.type, TokenEventType.NEEDS_REAUTH);
      assert.match(event.reason, /invalid_grant/);
      const asked = tokenRequests();
      await rejects(env.api[1].validateToken({ clientId }, as(tenant.service)), Code.FailedPrecondition, /needs re-consent/);
      assert.equal(tokenRequests(), asked);
      // consenting again reconnects it
      await connect(env.api[0], tenant.operator, clientId);
      assert.equal((await env.api[0].validateToken({ clientId }, as(tenant.service))).refreshed, false);
    });
  });

  describe("when Google fails transiently", () => {
    it("hands out the still-usable token, cools down, then answers UNAVAILABLE with retry-after, and recovers", async () => {
      const { clientId, tokenRequests } = await connectedClient();
      const current = await env.api[0].validateToken({ clientId }, as(tenant.service));
      env.emulator.controls.addFault({ endpoint: "token", kind: "error", status: 503, count: 1 });
      leaving(40_000);
      const asked = tokenRequests();
      const degraded = await env.api[0].validateToken({ clientId }, as(tenant.service));
      assert.equal(degraded.accessToken, current.accessToken);
      assert.equal(degraded.refreshed, false);
      assert.equal(tokenRequests(), asked + 1);
      // cooling down: other callers and instances do not ask Google again
      await env.api[1].validateToken({ clientId }, as(tenant.service));
      await env.api[0].validateToken({ clientId }, as(tenant.service));
      assert.equal(tokenRequests(), asked + 1);
      const info = await env.api[0].getTokenInfo({ clientId }, as(tenant.reader));
      assert.match(info.token?.lastError ?? "", /503|internal_failure/);

      env.clock.advance(15_000); // 25 s left: too little to hand out, and the cooldown is not over
      await assert.rejects(env.api[1].validateToken({ clientId }, as(tenant.service)), (err: unknown) => {
        const e = ConnectError.from(err);
        assert.equal(e.code, Code.Unavailable, e.rawMessage);
        assert.match(e.rawMessage, /failed at Google .*retry in \d+ s/);
        assert.match(e.metadata.get("retry-after") ?? "", /^\d+$/);
        return true;
      });
      assert.equal(tokenRequests(), asked + 1);

      env.clock.advance(60_000); // the cooldown (at most 72 s) is over
      const recovered = await env.api[1].validateToken({ clientId }, as(tenant.service));
      assert.equal(recovered.refreshed, true);
      assert.notEqual(recovered.accessToken, current.accessToken);
      assert.equal((await env.api[0].getTokenInfo({ clientId }, as(tenant.reader))).token?.lastError, "");
    });
  });

  describe("RevokeToken", () => {
    it("revokes at Google, deletes the tokens, and stops every instance handing out the old token", async () => {
      const { clientId } = await connectedClient();
      const cached = await env.api[1].validateToken({ clientId }, as(tenant.service));
      assert.ok(env.instances[1].deps.cache.get(clientId, env.clock.now()), "instance 1 should have cached the token");
      const revocations = env.emulator.controls.stats().revocations;
      await rejects(env.api[0].revokeToken({ clientId }, as(tenant.service)), Code.PermissionDenied, /service/);
      const revoked = await env.api[0].revokeToken({ clientId }, as(tenant.operator));
      assert.equal(revoked.status, ConnectionStatus.REVOKED);
      assert.equal(revoked.revokedAtGoogle, true);
      assert.equal(env.emulator.controls.stats().revocations, revocations + 1);
      const tokeninfo = await fetch(`${env.emulator.url}/tokeninfo?access_token=${encodeURIComponent(cached.accessToken)}`);
      assert.equal(tokeninfo.status, 400);
      await eventually(
        () => env.instances[1].deps.cache.get(clientId, env.clock.now()) === undefined,
        "instance 1 to drop its cached token",
      );
      await rejects(env.api[1].validateToken({ clientId }, as(tenant.service)), Code.FailedPrecondition, /was revoked/);
      const rows = (await env.dataSource.query("SELECT count(*)::int AS n FROM tokens WHERE client_id = $1", [clientId])) as {
        n: number;
      }[];
      assert.equal(rows[0].n, 0);
      assert.equal((await nextTokenEvent(env.streams, clientId, "revoked")).type, TokenEventType.REVOKED);
      const again = await env.api[0].revokeToken({ clientId }, as(tenant.operator));
      assert.equal(again.revokedAtGoogle, false);
      assert.equal(again.status, ConnectionStatus.REVOKED);
    });
  });

  describe("the sweeper", () => {
    it("refreshes tokens about to enter the window, so callers do not wait on Google", async () => {
      const { clientId, grants } = await connectedClient();
      leaving(WINDOW_MS + 2_000); // outside the window, inside the sweeper's horizon
      assert.ok((await env.instances[0].sweeper.runOnce()) >= 1);
      assert.equal(grants().refresh_token, 1);
      const afterSweep = await env.api[1].validateToken({ clientId }, as(tenant.service));
      assert.equal(afterSweep.refreshed, false);
      assert.equal(grants().refresh_token, 1);
      // a second sweeper finds nothing left to do for this client
      await env.instances[1].sweeper.runOnce();
      assert.equal(grants().refresh_token, 1);
    });
  });
});
