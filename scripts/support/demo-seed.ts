// The demo data `npm start` puts in place, idempotently: a second start finds and reuses the
// tenant, client and branches of the first (matched by name, Google client id and branch id).
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { Branch, Client as OAuthClient } from "../../gen/reviewflow/token/v1/resources_pb.js";
import type { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";

export type TokenClient = Client<typeof TokenService>;

export interface DemoBranch {
  branchId: string;
  name: string;
  accountId: string;
  locationId: string;
  managerEmail: string;
}

export interface DemoSeedOptions {
  tenantName: string;
  clientName: string;
  googleClientId: string;
  clientSecret: string;
  redirectUri: string;
  branches: DemoBranch[];
  /**
   * Seal the found client's secret again with today's key: the encryption key was made afresh
   * (.run/ was lost, the database kept), so the secret stored by an earlier start is unreadable.
   */
  resealSecret?: boolean;
}

export interface DemoSeed {
  tenantId: string;
  client: OAuthClient;
  branches: Branch[];
  /** What this run created (the rest was reused). */
  created: string[];
  /** Whether an existing client's secret was sealed again (resealSecret). */
  resealed: boolean;
}

async function findTenant(token: TokenClient, name: string): Promise<string | undefined> {
  let pageToken = "";
  do {
    const page = await token.listTenants({ pageSize: 500, pageToken });
    const found = page.tenants.find((t) => t.name === name);
    if (found) return found.id;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return undefined;
}

async function findClient(token: TokenClient, tenantId: string, googleClientId: string): Promise<OAuthClient | undefined> {
  let pageToken = "";
  do {
    const page = await token.listClients({ pageSize: 500, pageToken });
    const found = page.clients.find((c) => c.tenantId === tenantId && c.googleClientId === googleClientId);
    if (found) return found;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return undefined;
}

const isCode = (err: unknown, code: Code) => err instanceof ConnectError && err.code === code;

/** Creates (or finds) the demo tenant, client and branches with an admin key. */
export async function seedDemo(token: TokenClient, options: DemoSeedOptions): Promise<DemoSeed> {
  const created: string[] = [];
  let tenantId = await findTenant(token, options.tenantName);
  if (!tenantId) {
    try {
      tenantId = (await token.createTenant({ name: options.tenantName })).tenant?.id;
      created.push(`tenant "${options.tenantName}"`);
    } catch (err) {
      // another start won the race: use its tenant
      if (!isCode(err, Code.AlreadyExists)) throw err;
      tenantId = await findTenant(token, options.tenantName);
    }
  }
  if (!tenantId) throw new Error(`could not create or find tenant "${options.tenantName}"`);

  let client = await findClient(token, tenantId, options.googleClientId);
  const resealed = client !== undefined && options.resealSecret === true;
  if (!client) {
    client = (
      await token.createClient({
        tenantId,
        name: options.clientName,
        googleClientId: options.googleClientId,
        clientSecret: options.clientSecret,
        redirectUri: options.redirectUri,
      })
    ).client;
    created.push(`client ${options.googleClientId}`);
  } else if (client.redirectUri !== options.redirectUri || options.resealSecret) {
    // the gateway moved (another GATEWAY_PORT or PUBLIC_URL): Google must send people to the new
    // one; and a secret sealed with a lost key is replaced by the same secret sealed with the new
    client = (await token.updateClient({ id: client.id, redirectUri: options.redirectUri, clientSecret: options.clientSecret })).client;
  }
  if (!client) throw new Error("the TokenService returned no client");

  const branches: Branch[] = [];
  for (const wanted of options.branches) {
    let branch: Branch | undefined;
    try {
      branch = (await token.getBranchByBranchId({ branchId: wanted.branchId, tenantId })).branch;
    } catch (err) {
      if (!isCode(err, Code.NotFound)) throw err;
    }
    if (!branch) {
      branch = (await token.createBranch({ clientId: client.id, ...wanted })).branch;
      created.push(`branch ${wanted.branchId}`);
    }
    if (branch) branches.push(branch);
  }
  return { tenantId, client, branches, created, resealed };
}
