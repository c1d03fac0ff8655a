import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from '../common/roles';

export type SsoType = 'oidc' | 'saml';
export type OidcKind = 'entra' | 'google';

/** An identity provider that an admin registered (see the Sso migration). */
@Entity({ name: 'sso_providers' })
export class SsoProvider {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 8 })
  type!: SsoType;

  @Column({ type: 'varchar', length: 16, nullable: true })
  kind!: OidcKind | null;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 253, array: true })
  domains!: string[];

  @Column({ name: 'default_role', type: 'varchar', length: 16 })
  defaultRole!: Role;

  @Column({ type: 'text', nullable: true })
  issuer!: string | null;

  @Column({ name: 'client_id', type: 'text', nullable: true })
  clientId!: string | null;

  /** Sealed by SecretBox under JWT_SECRET, bound to the provider id; never returned. */
  @Column({ name: 'client_secret_enc', type: 'bytea', nullable: true, select: false })
  clientSecretEnc!: Buffer | null;

  @Column({ type: 'varchar', length: 64, array: true, nullable: true })
  scopes!: string[] | null;

  @Column({ name: 'allowed_tenants', type: 'varchar', length: 64, array: true, nullable: true })
  allowedTenants!: string[] | null;

  @Column({ name: 'entry_point', type: 'text', nullable: true })
  entryPoint!: string | null;

  @Column({ name: 'idp_issuer', type: 'text', nullable: true })
  idpIssuer!: string | null;

  @Column({ name: 'idp_certificate', type: 'text', nullable: true })
  idpCertificate!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** An identity at a provider (its subject) and the user it signs in as. */
@Entity({ name: 'sso_links' })
export class SsoLink {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'provider_id', type: 'varchar', length: 64 })
  providerId!: string;

  @Column({ type: 'varchar', length: 255 })
  subject!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt!: Date | null;
}
