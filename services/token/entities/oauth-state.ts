import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from "typeorm";
import { ClientRow } from "./client.js";

/**
 * A one-time consent state. Only its SHA-256 is stored (a database reader cannot complete
 * someone's consent); the PKCE verifier is sealed. `usedAt` is set atomically on redemption.
 */
@Entity({ name: "oauth_states" })
@Unique("UQ_oauth_states_hash", ["stateHash"])
@Index("IDX_oauth_states_client", ["clientId"])
@Index("IDX_oauth_states_expires", ["expiresAt"])
export class OAuthStateRow {
  @PrimaryColumn({ type: "uuid" })
  id: string;

  @Column({ type: "varchar", length: 64, name: "state_hash" })
  stateHash: string;

  @Column({ type: "uuid", name: "client_id" })
  clientId: string;

  @ManyToOne(() => ClientRow, { onDelete: "CASCADE" })
  @JoinColumn({ name: "client_id", foreignKeyConstraintName: "FK_oauth_states_client" })
  client?: ClientRow;

  @Column({ type: "text", name: "code_verifier" })
  codeVerifier: string;

  /** The redirect URI the authorization URL named: the code exchange must repeat it exactly. */
  @Column({ type: "varchar", length: 2048, name: "redirect_uri" })
  redirectUri: string;

  @Column({ type: "timestamptz", name: "created_at", default: () => "now()" })
  createdAt: Date;

  @Column({ type: "timestamptz", name: "expires_at" })
  expiresAt: Date;

  @Column({ type: "timestamptz", name: "used_at", nullable: true })
  usedAt: Date | null;
}
