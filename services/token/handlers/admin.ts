import { randomUUID } from "node:crypto";
import { callerOf, mintApiKey, requireRole } from "../../../lib/auth/index.js";
import { ApiKeyRow, isUniqueViolation, TenantRow, writeAudit } from "../../../lib/db/index.js";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "../../../lib/errors/index.js";
import { roleFromProto, toApiKey, toTenant } from "../convert.js";
import type { TokenHandlers, TokenServiceDeps } from "../deps.js";
import { pageOf } from "../paging.js";

const ADMIN_ONLY = ["admin"] as const;

/** CreateTenant, ListTenants, CreateApiKey, ListApiKeys, RevokeApiKey: admin keys only. */
export function createAdminHandlers(deps: TokenServiceDeps): TokenHandlers {
  const { dataSource, clock } = deps;

  return {
    async createTenant(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, ADMIN_ONLY, "create tenants");
      const row = Object.assign(new TenantRow(), { id: randomUUID(), name: req.name, createdAt: new Date(clock.now()) });
      try {
        await dataSource.transaction(async (m) => {
          await m.insert(TenantRow, row);
          await writeAudit(m, {
            tenantId: row.id,
            actor: caller.keyId,
            action: "tenant.create",
            targetType: "tenant",
            targetId: row.id,
            details: { name: row.name },
          });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AlreadyExistsError(`a tenant named "${req.name}" already exists`);
        throw err;
      }
      return { tenant: toTenant(row) };
    },

    async listTenants(req, ctx) {
      requireRole(callerOf(ctx), ADMIN_ONLY, "list tenants");
      const page = await pageOf(dataSource.getRepository(TenantRow).createQueryBuilder("t"), "t", req);
      return { tenants: page.rows.map(toTenant), nextPageToken: page.nextPageToken };
    },

    async createApiKey(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, ADMIN_ONLY, "create API keys");
      const role = roleFromProto(req.role);
      if (!role) throw new InvalidArgumentError("role must be ROLE_ADMIN, ROLE_OPERATOR, ROLE_READER or ROLE_SERVICE");
      if (role === "admin" && req.tenantId) throw new InvalidArgumentError("admin keys belong to no tenant: leave tenant_id empty");
      if (role !== "admin") {
        if (!req.tenantId) throw new InvalidArgumentError(`tenant_id is required for a ${role} key`);
        if (!(await dataSource.manager.existsBy(TenantRow, { id: req.tenantId }))) throw new NotFoundError("tenant", req.tenantId);
      }
      const minted = mintApiKey();
      const row = Object.assign(new ApiKeyRow(), {
        id: minted.id,
        tenantId: role === "admin" ? null : req.tenantId,
        role,
        name: req.name,
        secretHash: minted.secretHash,
        createdAt: new Date(clock.now()),
        revokedAt: null,
      });
      await dataSource.transaction(async (m) => {
        await m.insert(ApiKeyRow, row);
        await writeAudit(m, {
          tenantId: row.tenantId,
          actor: caller.keyId,
          action: "api_key.create",
          targetType: "api_key",
          targetId: row.id,
          details: { role, name: row.name },
        });
      });
      // the only time the key exists outside its holder: only its hash was stored
      return { apiKey: toApiKey(row), key: minted.key };
    },

    async listApiKeys(req, ctx) {
      requireRole(callerOf(ctx), ADMIN_ONLY, "list API keys");
      const qb = dataSource.getRepository(ApiKeyRow).createQueryBuilder("k").where("TRUE");
      if (req.tenantId) qb.andWhere("k.tenant_id = :tenantId", { tenantId: req.tenantId });
      const page = await pageOf(qb, "k", req);
      return { apiKeys: page.rows.map(toApiKey), nextPageToken: page.nextPageToken };
    },

    async revokeApiKey(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, ADMIN_ONLY, "revoke API keys");
      const row = await dataSource.manager.findOneBy(ApiKeyRow, { id: req.id });
      if (!row) throw new NotFoundError("API key", req.id);
      // revoking twice keeps the first revocation time
      if (!row.revokedAt) {
        row.revokedAt = new Date(clock.now());
        await dataSource.transaction(async (m) => {
          await m.update(ApiKeyRow, { id: row.id }, { revokedAt: row.revokedAt });
          await writeAudit(m, {
            tenantId: row.tenantId,
            actor: caller.keyId,
            action: "api_key.revoke",
            targetType: "api_key",
            targetId: row.id,
            details: { role: row.role },
          });
        });
      }
      return { apiKey: toApiKey(row) };
    },
  };
}
