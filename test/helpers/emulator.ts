// Fixtures for the emulator's own tests: an emulator per suite, the real Google clients aimed
// at it, and the consent dance as the product performs it.
import { mybusinessaccountmanagement, type mybusinessaccountmanagement_v1 } from "@googleapis/mybusinessaccountmanagement";
import { mybusinessbusinessinformation, type mybusinessbusinessinformation_v1 } from "@googleapis/mybusinessbusinessinformation";
import { ClientAuthentication, CodeChallengeMethod, OAuth2Client } from "google-auth-library";
import { DEFAULT_CLIENTS } from "../../emulator/context.js";
import { BUSINESS_SCOPE } from "../../emulator/oauth-store.js";
import { startGoogleEmulator } from "../../emulator/server.js";
import type { EmulatorOptions, GoogleEmulator } from "../../emulator/types.js";

export const DEMO = DEFAULT_CLIENTS[0] as { id: string; secret: string };
export const REDIRECT_URI = "http://127.0.0.1:9/auth/callback";

/** Starts an emulator before the suite and closes it after; read `.emu` inside tests. */
export function useEmulator(opts: EmulatorOptions = {}): { emu: GoogleEmulator } {
  const holder = {} as { emu: GoogleEmulator };
  before(async () => {
    holder.emu = await startGoogleEmulator({ port: 0, autoApprove: true, ...opts });
  });
  after(async () => {
    await holder.emu?.close();
  });
  return holder;
}

export function oauthClient(
  emu: GoogleEmulator,
  o: { clientId?: string; clientSecret?: string; redirectUri?: string; basic?: boolean } = {},
): OAuth2Client {
  return new OAuth2Client({
    clientId: o.clientId ?? DEMO.id,
    clientSecret: o.clientSecret ?? DEMO.secret,
    redirectUri: o.redirectUri ?? REDIRECT_URI,
    clientAuthentication: o.basic ? ClientAuthentication.ClientSecretBasic : ClientAuthentication.ClientSecretPost,
    endpoints: {
      oauth2AuthBaseUrl: `${emu.url}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${emu.url}/token`,
      oauth2RevokeUrl: `${emu.url}/revoke`,
      tokenInfoUrl: `${emu.url}/tokeninfo`,
    },
  });
}

export interface ConsentOptions {
  accessType?: "online" | "offline";
  prompt?: string;
  scope?: string[];
  state?: string;
  pkce?: boolean;
}

/** generateAuthUrl → authorize (auto-approve) → the redirect's query, as a browser would see it. */
export async function authorize(client: OAuth2Client, o: ConsentOptions = {}): Promise<{ redirect: URL; codeVerifier?: string }> {
  const pkce = o.pkce === false ? undefined : await client.generateCodeVerifierAsync();
  const url = client.generateAuthUrl({
    access_type: o.accessType ?? "offline",
    scope: o.scope ?? [BUSINESS_SCOPE],
    state: o.state ?? "state-123",
    ...(o.prompt ? { prompt: o.prompt } : {}),
    ...(pkce ? { code_challenge: pkce.codeChallenge, code_challenge_method: CodeChallengeMethod.S256 } : {}),
  });
  const res = await fetch(url, { redirect: "manual" });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  const redirect = new URL(res.headers.get("location") as string);
  return pkce ? { redirect, codeVerifier: pkce.codeVerifier } : { redirect };
}

/** A client holding fresh credentials from a full consent flow. */
export async function connectedClient(emu: GoogleEmulator, o: ConsentOptions = {}): Promise<OAuth2Client> {
  const client = oauthClient(emu);
  const { redirect, codeVerifier } = await authorize(client, o);
  const { tokens } = await client.getToken({
    code: redirect.searchParams.get("code") as string,
    ...(codeVerifier ? { codeVerifier } : {}),
  });
  client.setCredentials(tokens);
  return client;
}

// googleapis-common nests its own google-auth-library copy: the same class at runtime, a
// different declaration to TypeScript, hence the casts.
export function accountsApi(emu: GoogleEmulator, auth: OAuth2Client) {
  return mybusinessaccountmanagement({
    version: "v1",
    auth: auth as unknown as mybusinessaccountmanagement_v1.Options["auth"],
    rootUrl: `${emu.url}/`,
  });
}

export function locationsApi(emu: GoogleEmulator, auth: OAuth2Client) {
  return mybusinessbusinessinformation({
    version: "v1",
    auth: auth as unknown as mybusinessbusinessinformation_v1.Options["auth"],
    rootUrl: `${emu.url}/`,
  });
}

/** Raw HTTP against the control API. */
export async function control(emu: GoogleEmulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(`${emu.url}/_emulator${path}`, init);
  return { status: res.status, body: await res.json() };
}

/** A raw API call with a bearer token; returns status, body and headers. */
export async function api(
  emu: GoogleEmulator,
  path: string,
  token?: string,
  init: RequestInit = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  const res = await fetch(`${emu.url}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text, headers: res.headers };
}

/** The GaxiosError a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to fail");
}

/** One push request as a receiver saw it. */
export interface ReceivedPush {
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * A local HTTP server standing in for a push endpoint. `answer` picks each response's status
 * (default 204); every request is recorded in `received`, in arrival order.
 */
export async function startPushReceiver(
  answer: (n: number) => number = () => 204,
): Promise<{ url: string; received: ReceivedPush[]; close(): Promise<void> }> {
  const { createServer } = await import("node:http");
  const received: ReceivedPush[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      res.writeHead(answer(received.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as import("node:net").AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/google/pubsub/push`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Resolves once every notification the emulator started is delivered or given up (in_flight 0). */
export async function notificationsSettled(emu: GoogleEmulator, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (emu.controls.notifications().counters.in_flight > 0) {
    if (Date.now() > deadline) throw new Error(`notifications still in flight after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
