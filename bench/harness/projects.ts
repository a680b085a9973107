// Benchmarks that run several Google projects connect one reviewflow client per project: each
// is seeded in a tenant of its own and connected through the consent flow, as a person would.
import type { EmulatorClient } from "../../emulator/index.js";
import { connectThroughConsent } from "../../scripts/support/consent.js";
import { seedDemo } from "../../scripts/support/demo-seed.js";
import type { Stack } from "./stack.js";

/** Creates and connects a client for each Google OAuth client, in order; answers their ids. */
export async function connectProjects(stack: Stack, clients: readonly EmulatorClient[], label: string): Promise<string[]> {
  const clientIds: string[] = [];
  for (const [p, client] of clients.entries()) {
    const seeded = await seedDemo(stack.token, {
      tenantName: `${label} ${p + 1}`,
      clientName: `${label} project ${p + 1}`,
      googleClientId: client.id,
      clientSecret: client.secret,
      redirectUri: "http://127.0.0.1:9/auth/callback",
      branches: [],
    });
    await connectThroughConsent(stack.token, seeded.client.id, { completeVia: "token-service" });
    clientIds.push(seeded.client.id);
  }
  return clientIds;
}
