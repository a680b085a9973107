import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { RoleName } from "../db/entities/api-key.js";
import { PermissionDeniedError, UnauthenticatedError } from "../errors/index.js";

/** Who is calling: set by the auth interceptor, read by handlers through the context. */
export interface Caller {
  /** The API key id, or `bootstrap-admin` for ADMIN_API_KEY. */
  keyId: string;
  role: RoleName;
  /** The caller's tenant; null for admin keys, which see every tenant. */
  tenantId: string | null;
}

export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "authenticated caller" });

/** The authenticated caller of this request (the interceptor guarantees one on non-public methods). */
export function callerOf(ctx: Pick<HandlerContext, "values">): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new UnauthenticatedError();
  return caller;
}

export const WRITE_ROLES: readonly RoleName[] = ["admin", "operator"];
export const TOKEN_READ_ROLES: readonly RoleName[] = ["admin", "service"];
export const JOB_ROLES: readonly RoleName[] = ["admin", "operator", "service"];

export function requireRole(caller: Caller, allowed: readonly RoleName[], action: string): void {
  if (!allowed.includes(caller.role)) {
    throw new PermissionDeniedError(`role "${caller.role}" may not ${action} (allowed: ${allowed.join(", ")})`);
  }
}

/**
 * The tenant condition for a query: admin sees everything (undefined), others only their own.
 * Another tenant's object must then look exactly like a missing one (NOT_FOUND).
 */
export function tenantScope(caller: Caller): string | undefined {
  return caller.role === "admin" ? undefined : (caller.tenantId ?? "00000000-0000-0000-0000-000000000000");
}

/** True when `caller` may see an object owned by `tenantId`. */
export function canSee(caller: Caller, tenantId: string | null): boolean {
  return caller.role === "admin" || (caller.tenantId !== null && caller.tenantId === tenantId);
}
