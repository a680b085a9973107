import assert from "node:assert/strict";
import { CodeChallengeMethod } from "google-auth-library";
import { BUSINESS_SCOPE } from "./oauth-store.js";
import { oauthClient, useEmulator } from "../test/helpers/emulator.js";

/** Posts the consent form as a browser would after a click. */
async function decide(url: string, html: string, decision: "allow" | "deny"): Promise<Response> {
  const consentId = /name="consent_id" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(consentId, "the page carries a consent id");
  return fetch(new URL("/o/oauth2/v2/auth", url), {
    method: "POST",
    body: new URLSearchParams({ consent_id: consentId, decision }),
    redirect: "manual",
  });
}

describe("emulator consent page (autoApprove off)", () => {
  const t = useEmulator({ autoApprove: false });

  it("shows who asks for what, and Allow redirects back with a code that exchanges", async () => {
    const client = oauthClient(t.emu);
    const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
    const url = client.generateAuthUrl({
      access_type: "offline",
      scope: [BUSINESS_SCOPE],
      state: "abc",
      code_challenge: codeChallenge,
      code_challenge_method: CodeChallengeMethod.S256,
    });
    const page = await fetch(url, { redirect: "manual" });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") as string, /^text\/html/);
    const html = await page.text();
    assert.match(html, /demo-client\.apps\.googleusercontent\.com/);
    assert.match(html, /Google business listings/);
    assert.match(html, /id="allow"/);

    const res = await decide(url, html, "allow");
    assert.equal(res.status, 302);
    const back = new URL(res.headers.get("location") as string);
    assert.equal(back.searchParams.get("state"), "abc");
    const { tokens } = await client.getToken({ code: back.searchParams.get("code") as string, codeVerifier });
    assert.ok(tokens.refresh_token);
  });

  it("redirects with error=access_denied and the state when the person cancels", async () => {
    const url = oauthClient(t.emu).generateAuthUrl({ scope: [BUSINESS_SCOPE], state: "xyz" });
    const html = await (await fetch(url)).text();
    const res = await decide(url, html, "deny");
    const back = new URL(res.headers.get("location") as string);
    assert.equal(back.searchParams.get("error"), "access_denied");
    assert.equal(back.searchParams.get("state"), "xyz");
    assert.equal(back.searchParams.get("code"), null);
  });

  it("refuses a consent form that was already used", async () => {
    const url = oauthClient(t.emu).generateAuthUrl({ scope: [BUSINESS_SCOPE] });
    const html = await (await fetch(url)).text();
    assert.equal((await decide(url, html, "allow")).status, 302);
    const replay = await decide(url, html, "allow");
    assert.equal(replay.status, 400);
    assert.match(await replay.text(), /expired/);
  });

  it("switches to auto-approve through the control API", async () => {
    t.emu.controls.configure({ autoApprove: true });
    try {
      const res = await fetch(oauthClient(t.emu).generateAuthUrl({ scope: [BUSINESS_SCOPE] }), { redirect: "manual" });
      assert.equal(res.status, 302);
      assert.ok(new URL(res.headers.get("location") as string).searchParams.get("code"));
    } finally {
      t.emu.controls.configure({ autoApprove: false });
    }
  });
});
