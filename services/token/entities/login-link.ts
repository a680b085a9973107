import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from "typeorm";
import { ClientRow } from "./client.js";

/** A one-time login link a person opens without an API key. Only its SHA-256 is stored. */
@Entity({ name: "oauth_login_links" })
@Unique("UQ_oauth_login_links_hash", ["linkHash"])
@Index("IDX_oauth_login_links_client", ["clientId"])
@Index("IDX_oauth_login_links_expires", ["expiresAt"])
export class LoginLinkRow {
  @PrimaryColumn({ type: "uuid" })
  id: string;

  @Column({ type: "varchar", length: 64, name: "link_hash" })
  linkHash: string;

  @Column({ type: "uuid", name: "client_id" })
  clientId: string;

  @ManyToOne(() => ClientRow, { onDelete: "CASCADE" })
  @JoinColumn({ name: "client_id", foreignKeyConstraintName: "FK_oauth_login_links_client" })
  client?: ClientRow;

  /** The API key id that asked for the link. */
  @Column({ type: "varchar", length: 64, name: "created_by" })
  createdBy: string;

  @Column({ type: "timestamptz", name: "created_at", default: () => "now()" })
  createdAt: Date;

  @Column({ type: "timestamptz", name: "expires_at" })
  expiresAt: Date;

  @Column({ type: "timestamptz", name: "used_at", nullable: true })
  usedAt: Date | null;
}
