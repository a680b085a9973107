import { randomUUID } from "node:crypto";
import { callerOf, requireRole, tenantScope, WRITE_ROLES, type Caller } from "../../../lib/auth/index.js";
import { TenantRow, writeAudit } from "../../../lib/db/index.js";
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from "../../../lib/errors/index.js";
import type { EntityManager } from "typeorm";
import { toClient } from "../convert.js";
import type { TokenHandlers, TokenServiceDeps } from "../deps.js";
import { ClientRow } from "../entities/index.js";
import { findVisibleClient } from "../lookups.js";
import { pageOf } from "../paging.js";
import { aad } from "../secrets.js";
import { notifyChange } from "../token-store.js";

/** The scope Google Business Profile needs; requested when a client names none. */
export const BUSINESS_SCOPE = "https://www.googleapis.com/auth/business.manage";

/** CreateClient, GetClient, ListClients, UpdateClient, DeleteClient. */
export function createClientHandlers(deps: TokenServiceDeps): TokenHandlers {
  const { dataSource, secretBox, clock } = deps;

  return {
    async createClient(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "create clients");
      const tenantId = await owningTenant(dataSource.manager, caller, req.tenantId);
      checkRedirectUri(req.redirectUri);
      const id = randomUUID();
      const now = new Date(clock.now());
      const row: ClientRow = Object.assign(new ClientRow(), {
        id,
        tenantId,
        name: req.name,
        googleClientId: req.googleClientId,
        clientSecret: secretBox.seal(req.clientSecret, aad.clientSecret(id)),
        redirectUri: req.redirectUri,
        scopes: req.scopes.length > 0 ? [...new Set(req.scopes)] : [BUSINESS_SCOPE],
        status: "not_connected",
        statusReason: "",
        createdAt: now,
        updatedAt: now,
      });
      await dataSource.transaction(async (m) => {
        await m.insert(ClientRow, row);
        await writeAudit(m, {
          tenantId,
          actor: caller.keyId,
          action: "client.create",
          targetType: "client",
          targetId: id,
          details: { name: req.name, google_client_id: req.googleClientId },
        });
      });
      return { client: toClient(row) };
    },

    async getClient(req, ctx) {
      return { client: toClient(await findVisibleClient(dataSource.manager, callerOf(ctx), req.id)) };
    },

    async listClients(req, ctx) {
      const scope = tenantScope(callerOf(ctx));
      const qb = dataSource.getRepository(ClientRow).createQueryBuilder("c");
      if (scope !== undefined) qb.where("c.tenant_id = :tenantId", { tenantId: scope });
      const page = await pageOf(qb, "c", req);
      return { clients: page.rows.map(toClient), nextPageToken: page.nextPageToken };
    },

    async updateClient(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "change clients");
      const row = await findVisibleClient(dataSource.manager, caller, req.id);
      const changed: string[] = [];
      if (req.name !== undefined) {
        row.name = req.name;
        changed.push("name");
      }
      if (req.clientSecret !== undefined) {
        row.clientSecret = secretBox.seal(req.clientSecret, aad.clientSecret(row.id));
        changed.push("client_secret");
      }
      if (req.redirectUri !== undefined) {
        checkRedirectUri(req.redirectUri);
        row.redirectUri = req.redirectUri;
        changed.push("redirect_uri");
      }
      if (req.scopes.length > 0) {
        row.scopes = [...new Set(req.scopes)];
        changed.push("scopes");
      }
      if (changed.length === 0) return { client: toClient(row) };
      row.updatedAt = new Date(clock.now());
      await dataSource.transaction(async (m) => {
        await m.update(
          ClientRow,
          { id: row.id },
          {
            name: row.name,
            clientSecret: row.clientSecret,
            redirectUri: row.redirectUri,
            scopes: row.scopes,
            updatedAt: row.updatedAt,
          },
        );
        if (changed.includes("client_secret")) {
          // a corrected secret may be tried at once: drop the cooldown a wrong one caused
          await m.query(`UPDATE tokens SET retry_after = NULL, failure_count = 0 WHERE client_id = $1`, [row.id]);
        }
        await writeAudit(m, {
          tenantId: row.tenantId,
          actor: caller.keyId,
          action: "client.update",
          targetType: "client",
          targetId: row.id,
          details: { fields: changed },
        });
      });
      return { client: toClient(row) };
    },

    async deleteClient(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "delete clients");
      const row = await findVisibleClient(dataSource.manager, caller, req.id);
      await dataSource.transaction(async (m) => {
        // branches, tokens, states and login links go with it (ON DELETE CASCADE)
        await m.delete(ClientRow, { id: row.id });
        await writeAudit(m, {
          tenantId: row.tenantId,
          actor: caller.keyId,
          action: "client.delete",
          targetType: "client",
          targetId: row.id,
          details: { name: row.name },
        });
        await notifyChange(m, row.id);
      });
      deps.cache.evict(row.id);
      return {};
    },
  };
}

/** The tenant a new client belongs to: admin keys name it, other keys may only name their own. */
async function owningTenant(manager: EntityManager, caller: Caller, requested: string): Promise<string> {
  if (caller.role === "admin") {
    if (!requested) throw new InvalidArgumentError("tenant_id is required when an admin key creates a client");
    if (!(await manager.existsBy(TenantRow, { id: requested }))) throw new NotFoundError("tenant", requested);
    return requested;
  }
  if (!caller.tenantId) throw new PermissionDeniedError("this key belongs to no tenant");
  if (requested && requested !== caller.tenantId) {
    throw new PermissionDeniedError(`a key of tenant ${caller.tenantId} may only create clients for its own tenant`);
  }
  return caller.tenantId;
}

function checkRedirectUri(uri: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(uri);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.hash !== "") {
    throw new InvalidArgumentError("redirect_uri must be an absolute http(s) URL without a fragment, as registered at Google");
  }
}
