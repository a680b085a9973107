// Connects a client the way a person would, minus the clicking: StartOAuth, open Google's
// authorization URL (the emulator's auto-approve answers with the redirect a consenting user
// would cause), then follow that redirect to the gateway's /auth/callback.
import { ConnectionStatus } from "../../gen/reviewflow/token/v1/resources_pb.js";
import type { TokenClient } from "./demo-seed.js";

export type ConsentOutcome =
  | { kind: "already-connected" }
  | { kind: "connected" }
  /** Google showed a consent page (a real Google, or an emulator without auto-approve): a person must open the link. */
  | { kind: "needs-person"; loginUrl: string };

export class ConsentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConsentError";
  }
}

export interface ConsentOptions {
  /**
   * "redirect" (default) follows Google's redirect to the client's redirect URI, the gateway's
   * /auth/callback, as a browser would. "token-service" hands the code and state straight to
   * TokenService.CompleteOAuth: for harnesses that run no gateway.
   */
  completeVia?: "redirect" | "token-service";
  /**
   * Consent again even when the client is already connected. The emulator keeps its grants in
   * memory, so after it restarts the stored refresh token means nothing to it.
   */
  force?: boolean;
}

export async function connectThroughConsent(token: TokenClient, clientId: string, options: ConsentOptions = {}): Promise<ConsentOutcome> {
  const status = await token.getConnectionStatus({ clientId });
  if (status.status === ConnectionStatus.CONNECTED && !options.force) return { kind: "already-connected" };

  const start = await token.startOAuth({ clientId });
  const authorize = await fetch(start.authorizationUrl, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
  await authorize.arrayBuffer();
  const location = authorize.headers.get("location");
  if (authorize.status < 300 || authorize.status >= 400 || !location) {
    return { kind: "needs-person", loginUrl: start.loginUrl };
  }
  const redirect = new URL(location, start.authorizationUrl);
  if (redirect.searchParams.has("error")) {
    throw new ConsentError(`Google refused consent: ${redirect.searchParams.get("error")}`);
  }
  if (options.completeVia === "token-service") {
    await token.completeOAuth({ code: redirect.searchParams.get("code") ?? "", state: redirect.searchParams.get("state") ?? "" });
    return { kind: "connected" };
  }
  // the redirect URI is the gateway's /auth/callback; JSON instead of the HTML a browser gets
  const callback = await fetch(redirect, {
    headers: { accept: "application/json" },
    redirect: "manual",
    signal: AbortSignal.timeout(15_000),
  });
  const body = await callback.text();
  if (!callback.ok) {
    throw new ConsentError(`the callback ${redirect.origin}${redirect.pathname} answered HTTP ${callback.status}: ${body.slice(0, 300)}`);
  }
  const after = await token.getConnectionStatus({ clientId });
  if (after.status !== ConnectionStatus.CONNECTED) {
    throw new ConsentError(`the callback succeeded but the client is ${ConnectionStatus[after.status]}`);
  }
  return { kind: "connected" };
}
