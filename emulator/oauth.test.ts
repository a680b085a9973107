import assert from "node:assert/strict";
import { OAuth2Client } from "google-auth-library";
import { BUSINESS_SCOPE } from "./oauth-store.js";
import { startGoogleEmulator } from "./server.js";
import { authorize, connectedClient, control, DEMO, oauthClient, REDIRECT_URI, rejection, useEmulator } from "../test/helpers/emulator.js";

const OTHER = { id: "123456789012-other.apps.googleusercontent.com", secret: "other-secret" };

describe("emulator OAuth: authorize and code exchange", () => {
  const t = useEmulator({ clients: [DEMO, OTHER] });

  it("redirects with code, state, scope, authuser and prompt, and exchanges the code with PKCE", async () => {
    const client = oauthClient(t.emu);
    const { redirect, codeVerifier } = await authorize(client, { state: "s/1 +x" });
    assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT_URI);
    assert.equal(redirect.searchParams.get("state"), "s/1 +x");
    assert.equal(redirect.searchParams.get("scope"), BUSINESS_SCOPE);
    assert.equal(redirect.searchParams.get("authuser"), "0");
    assert.equal(redirect.searchParams.get("prompt"), "consent");
    const code = redirect.searchParams.get("code") as string;
    assert.match(code, /^4\/0/);

    const { tokens, res } = await client.getToken({ code, codeVerifier: codeVerifier as string });
    assert.match(tokens.access_token as string, /^ya29\./);
    assert.match(tokens.refresh_token as string, /^1\/\/0/);
    assert.equal(tokens.scope, BUSINESS_SCOPE);
    assert.equal(tokens.token_type, "Bearer");
    assert.ok((tokens.expiry_date as number) > Date.now() + 3000 * 1000);
    assert.equal(res?.headers.get("cache-control"), "no-cache, no-store, max-age=0, must-revalidate");
  });

  it("accepts the client secret as HTTP Basic", async () => {
    const client = oauthClient(t.emu, { basic: true });
    const { redirect, codeVerifier } = await authorize(client);
    const { tokens } = await client.getToken({ code: redirect.searchParams.get("code") as string, codeVerifier: codeVerifier as string });
    assert.ok(tokens.access_token);
  });

  it("makes codes single-use: the second exchange is invalid_grant Bad Request", async () => {
    const client = oauthClient(t.emu);
    const { redirect, codeVerifier } = await authorize(client);
    const code = redirect.searchParams.get("code") as string;
    await client.getToken({ code, codeVerifier: codeVerifier as string });
    const err = await rejection(client.getToken({ code, codeVerifier: codeVerifier as string }));
    assert.equal(err.status, 400);
    assert.equal(err.message, "invalid_grant");
    assert.deepEqual(err.response.data, { error: "invalid_grant", error_description: "Bad Request" });
  });

  it("rejects a wrong or missing PKCE verifier with Invalid code verifier.", async () => {
    const client = oauthClient(t.emu);
    const { redirect } = await authorize(client);
    const code = redirect.searchParams.get("code") as string;
    const wrong = await rejection(client.getToken({ code, codeVerifier: "x".repeat(64) }));
    assert.deepEqual(wrong.response.data, { error: "invalid_grant", error_description: "Invalid code verifier." });
    const missing = await rejection(client.getToken({ code }));
    assert.equal(missing.response.data.error_description, "Invalid code verifier.");
  });

  it("requires the exact redirect_uri of the authorization request", async () => {
    const client = oauthClient(t.emu);
    const { redirect, codeVerifier } = await authorize(client);
    const other = oauthClient(t.emu, { redirectUri: `${REDIRECT_URI}/` });
    const err = await rejection(
      other.getToken({ code: redirect.searchParams.get("code") as string, codeVerifier: codeVerifier as string }),
    );
    assert.equal(err.status, 400);
    assert.deepEqual(err.response.data, { error: "redirect_uri_mismatch", error_description: "Bad Request" });
  });

  it("answers invalid_client for an unknown client and for a wrong secret", async () => {
    const unknown = await rejection(oauthClient(t.emu, { clientId: "nobody.apps.googleusercontent.com" }).getToken({ code: "4/0abc" }));
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.response.data, { error: "invalid_client", error_description: "The OAuth client was not found." });
    const wrong = await rejection(oauthClient(t.emu, { clientSecret: "nope" }).getToken({ code: "4/0abc" }));
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.response.data, { error: "invalid_client", error_description: "Unauthorized" });
  });

  it("answers invalid_request, unsupported_grant_type and Malformed auth code. on bad token requests", async () => {
    const post = (form: Record<string, string>) =>
      fetch(`${t.emu.url}/token`, { method: "POST", body: new URLSearchParams(form) }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    const base = { client_id: DEMO.id, client_secret: DEMO.secret };
    assert.deepEqual(await post({ ...base, grant_type: "authorization_code", redirect_uri: REDIRECT_URI }), {
      status: 400,
      body: { error: "invalid_request", error_description: "Missing required parameter: code" },
    });
    assert.deepEqual(await post({ ...base, grant_type: "password" }), {
      status: 400,
      body: { error: "unsupported_grant_type", error_description: "Invalid grant_type: password" },
    });
    assert.deepEqual(await post({ ...base, grant_type: "authorization_code", code: "garbage", redirect_uri: REDIRECT_URI }), {
      status: 400,
      body: { error: "invalid_grant", error_description: "Malformed auth code." },
    });
  });

  it("returns a refresh token only on the first offline grant or with prompt=consent", async () => {
    const emu = await startGoogleEmulator({ port: 0, autoApprove: true });
    try {
      const online = await connectedClient(emu, { accessType: "online" });
      assert.equal(online.credentials.refresh_token, undefined);
      const first = await connectedClient(emu);
      assert.ok(first.credentials.refresh_token);
      const again = await connectedClient(emu);
      assert.equal(again.credentials.refresh_token, undefined);
      const forced = await connectedClient(emu, { prompt: "consent" });
      assert.ok(forced.credentials.refresh_token);
      assert.notEqual(forced.credentials.refresh_token, first.credentials.refresh_token);
      assert.deepEqual(emu.controls.stats().grants[DEMO.id], { authorization_code: 4, refresh_token: 0 });
    } finally {
      await emu.close();
    }
  });

  it("shows Google's error page for an unknown client or a missing redirect_uri, and consent_required for prompt=none", async () => {
    const base = `${t.emu.url}/o/oauth2/v2/auth?response_type=code&scope=${encodeURIComponent(BUSINESS_SCOPE)}`;
    const unknown = await fetch(`${base}&client_id=nobody&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`, { redirect: "manual" });
    assert.equal(unknown.status, 401);
    const page = await unknown.text();
    assert.match(page, /Error 401: invalid_client/);
    assert.match(page, /The OAuth client was not found\./);
    const noRedirect = await fetch(`${base}&client_id=${DEMO.id}`, { redirect: "manual" });
    assert.equal(noRedirect.status, 400);
    assert.match(await noRedirect.text(), /Missing required parameter: redirect_uri/);

    const fresh = await startGoogleEmulator({ port: 0, autoApprove: true });
    try {
      const url = oauthClient(fresh).generateAuthUrl({ scope: [BUSINESS_SCOPE], prompt: "none", state: "q" });
      const res = await fetch(url, { redirect: "manual" });
      const location = new URL(res.headers.get("location") as string);
      assert.equal(location.searchParams.get("error"), "consent_required");
      assert.equal(location.searchParams.get("state"), "q");
    } finally {
      await fresh.close();
    }
  });

  it("expires codes after ten minutes", async () => {
    let now = Date.parse("2030-01-01T00:00:00Z");
    const emu = await startGoogleEmulator({ port: 0, autoApprove: true, now: () => now });
    try {
      const client = oauthClient(emu);
      const { redirect, codeVerifier } = await authorize(client);
      now += 10 * 60_000 + 1;
      const err = await rejection(
        client.getToken({ code: redirect.searchParams.get("code") as string, codeVerifier: codeVerifier as string }),
      );
      assert.equal(err.response.data.error_description, "Bad Request");
    } finally {
      await emu.close();
    }
  });
});

describe("emulator OAuth: refresh, revoke, tokeninfo", () => {
  const t = useEmulator({ clients: [DEMO, OTHER] });

  it("refreshes without returning a new refresh token; the library keeps the old one", async () => {
    const client = await connectedClient(t.emu);
    const { access_token: before, refresh_token: refresh } = client.credentials;
    let event: Record<string, unknown> | undefined;
    // Copy: the library adds the old refresh token to the same object after emitting.
    client.on("tokens", (tokens) => (event = { ...tokens }));
    const { credentials } = await client.refreshAccessToken();
    assert.notEqual(credentials.access_token, before);
    assert.equal(credentials.refresh_token, refresh);
    assert.equal(event?.refresh_token, undefined);
    assert.ok(event?.access_token);
    assert.equal(t.emu.controls.stats().grants[DEMO.id]?.refresh_token, 1);
  });

  it("answers unauthorized_client for a refresh token of another client", async () => {
    const client = await connectedClient(t.emu, { prompt: "consent" });
    const other = oauthClient(t.emu, { clientId: OTHER.id, clientSecret: OTHER.secret });
    other.setCredentials({ refresh_token: client.credentials.refresh_token as string });
    const err = await rejection(other.refreshAccessToken());
    assert.equal(err.status, 401);
    assert.deepEqual(err.response.data, { error: "unauthorized_client", error_description: "Unauthorized" });
  });

  it("revokes the whole grant from an access token; refresh then fails with invalid_grant", async () => {
    const client = await connectedClient(t.emu, { prompt: "consent" });
    const revocations = t.emu.controls.stats().revocations;
    await client.revokeToken(client.credentials.access_token as string);
    assert.equal(t.emu.controls.stats().revocations, revocations + 1);
    const err = await rejection(client.refreshAccessToken());
    assert.equal(err.status, 400);
    assert.equal(err.message, "invalid_grant");
    assert.deepEqual(err.response.data, { error: "invalid_grant", error_description: "Token has been expired or revoked." });
    const again = await rejection(client.revokeToken(client.credentials.refresh_token as string));
    assert.equal(again.status, 400);
    assert.equal(again.response.data.error, "invalid_token");
  });

  it("revokes from the form body too", async () => {
    const client = await connectedClient(t.emu, { prompt: "consent" });
    const res = await fetch(`${t.emu.url}/revoke`, {
      method: "POST",
      body: new URLSearchParams({ token: client.credentials.refresh_token as string }),
    });
    assert.equal(res.status, 200);
    const info = await fetch(`${t.emu.url}/tokeninfo?access_token=${client.credentials.access_token}`);
    assert.equal(info.status, 400);
  });

  it("lets a test revoke a grant: the refresh token then yields invalid_grant", async () => {
    const client = await connectedClient(t.emu, { prompt: "consent" });
    const { body } = await control(t.emu, "POST", "/grants/revoke", { refresh_token: client.credentials.refresh_token });
    assert.deepEqual(body, { revoked: 1 });
    const err = await rejection(client.refreshAccessToken());
    assert.equal(err.response.data.error_description, "Token has been expired or revoked.");
  });

  it("describes a live access token at /tokeninfo and rejects others", async () => {
    const client = await connectedClient(t.emu, { prompt: "consent" });
    const info = await client.getTokenInfo(client.credentials.access_token as string);
    assert.equal(info.aud, DEMO.id);
    assert.equal(info.azp, DEMO.id);
    assert.deepEqual(info.scopes, [BUSINESS_SCOPE]);
    assert.equal(info.access_type, "offline");
    assert.ok(info.expiry_date > Date.now());

    const res = await fetch(`${t.emu.url}/tokeninfo?access_token=ya29.unknown`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: "invalid_token", error_description: "Invalid Value" });
  });

  it("keeps at most 100 refresh tokens per user and client, dropping the oldest silently", async () => {
    const emu = await startGoogleEmulator({ port: 0 });
    try {
      const first = emu.controls.issueTokens({ client_id: DEMO.id });
      for (let i = 0; i < 100; i++) emu.controls.issueTokens({ client_id: DEMO.id });
      const client = oauthClient(emu);
      client.setCredentials({ refresh_token: first.refresh_token });
      const err = await rejection(client.refreshAccessToken());
      assert.equal(err.response.data.error_description, "Token has been expired or revoked.");
      const second = oauthClient(emu);
      second.setCredentials({ refresh_token: emu.controls.issueTokens({ client_id: DEMO.id }).refresh_token });
      await second.refreshAccessToken();
    } finally {
      await emu.close();
    }
  });

  it("uses the configured access-token lifetime", async () => {
    await control(t.emu, "POST", "/config", { accessTokenTtlSeconds: 120 });
    try {
      const client = await connectedClient(t.emu);
      const left = (client.credentials.expiry_date as number) - Date.now();
      assert.ok(left <= 120_000 && left > 60_000);
    } finally {
      await control(t.emu, "POST", "/config", { accessTokenTtlSeconds: 3599 });
    }
  });

  it("retries a transient token-endpoint failure through the library's own retry", async () => {
    const client = new OAuth2Client({ clientId: DEMO.id, clientSecret: DEMO.secret, endpoints: { oauth2TokenUrl: `${t.emu.url}/token` } });
    client.setCredentials({ refresh_token: t.emu.controls.issueTokens({ client_id: DEMO.id }).refresh_token });
    t.emu.controls.addFault({ endpoint: "token", kind: "error", status: 503, count: 1 });
    const { credentials } = await client.refreshAccessToken();
    assert.ok(credentials.access_token);
    assert.equal(t.emu.controls.listFaults().find((f) => f.endpoint === "token")?.injected, 1);
    t.emu.controls.clearFaults();
  });
});
