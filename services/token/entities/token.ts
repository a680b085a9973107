import { Column, Entity, Index, JoinColumn, OneToOne, PrimaryColumn } from "typeorm";
import { ClientRow } from "./client.js";

/**
 * A client's Google tokens, sealed and bound to the client id. The row doubles as the
 * cross-instance refresh lock (SELECT ... FOR UPDATE); `retryAfter` is the shared cooldown.
 */
@Entity({ name: "tokens" })
@Index("IDX_tokens_expires", ["expiresAt"])
export class TokenRow {
  @PrimaryColumn({ type: "uuid", name: "client_id" })
  clientId: string;

  @OneToOne(() => ClientRow, { onDelete: "CASCADE" })
  @JoinColumn({ name: "client_id", foreignKeyConstraintName: "FK_tokens_client" })
  client?: ClientRow;

  @Column({ type: "text", name: "access_token" })
  accessToken: string;

  @Column({ type: "text", name: "refresh_token", nullable: true })
  refreshToken: string | null;

  @Column({ type: "varchar", length: 32, name: "token_type", default: "Bearer" })
  tokenType: string;

  @Column({ type: "text", array: true })
  scopes: string[];

  @Column({ type: "timestamptz", name: "expires_at" })
  expiresAt: Date;

  @Column({ type: "timestamptz", name: "connected_at" })
  connectedAt: Date;

  @Column({ type: "timestamptz", name: "last_refresh_at", nullable: true })
  lastRefreshAt: Date | null;

  /** bigint comes back from pg as a string. */
  @Column({ type: "bigint", name: "refresh_count", default: 0 })
  refreshCount: string;

  @Column({ type: "varchar", length: 500, name: "last_error", default: "" })
  lastError: string;

  @Column({ type: "integer", name: "failure_count", default: 0 })
  failureCount: number;

  @Column({ type: "timestamptz", name: "retry_after", nullable: true })
  retryAfter: Date | null;

  @Column({ type: "timestamptz", name: "updated_at", default: () => "now()" })
  updatedAt: Date;
}
