import { ApiProperty } from '@nestjs/swagger';
import { ROLES } from '../common/roles';

/**
 * The answers about users, as the OpenAPI document names them (API.md 14). The services keep their own
 * interfaces (PublicUser); these classes only describe the same fields to the document and the client.
 */
export class UserResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'email' })
  email!: string;

  @ApiProperty({ type: String, nullable: true })
  username!: string | null;

  @ApiProperty({ enum: ROLES, enumName: 'Role' })
  role!: (typeof ROLES)[number];

  @ApiProperty({ type: String, nullable: true })
  first_name!: string | null;

  @ApiProperty({ type: String, nullable: true })
  last_name!: string | null;

  @ApiProperty({ type: String, nullable: true })
  title!: string | null;

  @ApiProperty({ type: String, nullable: true })
  specialty!: string | null;

  @ApiProperty({ type: String, nullable: true })
  ehr_system_type!: string | null;

  @ApiProperty({ type: String, nullable: true })
  ehr_system_name!: string | null;

  @ApiProperty()
  email_verified!: boolean;

  @ApiProperty()
  is_active!: boolean;

  @ApiProperty({ enum: ['none', 'active', 'canceled', 'expired'], enumName: 'SubscriptionStatus' })
  subscription_status!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  subscription_ends_at!: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
}

/** `PATCH /users` (API.md 3, 12): the user, and the address waiting for its confirmation link. */
export class UserWithPendingEmailResponse extends UserResponse {
  @ApiProperty({ type: String, format: 'email', nullable: true })
  pending_email!: string | null;
}

/** A page of users, oldest first. */
export class UserPageResponse {
  @ApiProperty({ type: [UserResponse] })
  items!: UserResponse[];

  @ApiProperty()
  total!: number;

  @ApiProperty()
  page!: number;

  @ApiProperty()
  limit!: number;
}
