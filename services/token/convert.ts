import { create } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { ApiKeyRow, RoleName, TenantRow } from "../../lib/db/index.js";
import {
  ApiKeySchema,
  BranchSchema,
  ClientSchema,
  ConnectionStatus,
  Role,
  TenantSchema,
  TokenInfoSchema,
  type ApiKey,
  type Branch,
  type Client,
  type Tenant,
  type TokenInfo,
} from "../../gen/reviewflow/token/v1/resources_pb.js";
import type { BranchRow, ClientRow, ClientStatus } from "./entities/index.js";

/** Rows to API messages. Secrets (client secret, token values) have no field to land in. */

const STATUS: Record<ClientStatus, ConnectionStatus> = {
  not_connected: ConnectionStatus.NOT_CONNECTED,
  connected: ConnectionStatus.CONNECTED,
  needs_reauth: ConnectionStatus.NEEDS_REAUTH,
  revoked: ConnectionStatus.REVOKED,
};

export function statusToProto(status: ClientStatus): ConnectionStatus {
  return STATUS[status] ?? ConnectionStatus.UNSPECIFIED;
}

export function ts(date: Date | null | undefined): Timestamp | undefined {
  return date ? timestampFromDate(date) : undefined;
}

export function toClient(row: ClientRow): Client {
  return create(ClientSchema, {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    googleClientId: row.googleClientId,
    redirectUri: row.redirectUri,
    scopes: row.scopes,
    status: statusToProto(row.status),
    createTime: ts(row.createdAt),
    updateTime: ts(row.updatedAt),
  });
}

export function toBranch(row: BranchRow): Branch {
  return create(BranchSchema, {
    id: row.id,
    tenantId: row.tenantId,
    clientId: row.clientId,
    branchId: row.branchId,
    name: row.name,
    accountId: row.accountId,
    locationId: row.locationId,
    managerEmail: row.managerEmail,
    createTime: ts(row.createdAt),
    updateTime: ts(row.updatedAt),
  });
}

/** Token metadata as stored; never a token value. */
export interface TokenMetadata {
  clientId: string;
  status: ClientStatus;
  expiresAt: Date | null;
  scopes: string[];
  lastRefreshAt: Date | null;
  refreshCount: number;
  hasRefreshToken: boolean;
  lastError: string;
  connectedAt: Date | null;
}

export function toTokenInfo(meta: TokenMetadata): TokenInfo {
  return create(TokenInfoSchema, {
    clientId: meta.clientId,
    status: statusToProto(meta.status),
    expireTime: ts(meta.expiresAt),
    scopes: meta.scopes,
    lastRefreshTime: ts(meta.lastRefreshAt),
    refreshCount: BigInt(meta.refreshCount),
    hasRefreshToken: meta.hasRefreshToken,
    lastError: meta.lastError,
    connectTime: ts(meta.connectedAt),
  });
}

export function toTenant(row: TenantRow): Tenant {
  return create(TenantSchema, { id: row.id, name: row.name, createTime: ts(row.createdAt) });
}

const ROLE_TO_PROTO: Record<RoleName, Role> = {
  admin: Role.ADMIN,
  operator: Role.OPERATOR,
  reader: Role.READER,
  service: Role.SERVICE,
};

export function roleFromProto(role: Role): RoleName | undefined {
  return (Object.entries(ROLE_TO_PROTO) as [RoleName, Role][]).find(([, value]) => value === role)?.[0];
}

export function toApiKey(row: ApiKeyRow): ApiKey {
  return create(ApiKeySchema, {
    id: row.id,
    tenantId: row.tenantId ?? "",
    role: ROLE_TO_PROTO[row.role] ?? Role.UNSPECIFIED,
    name: row.name,
    createTime: ts(row.createdAt),
    revokeTime: ts(row.revokedAt),
  });
}
