import { ApiProperty } from '@nestjs/swagger';

/** The IAM surface's answers (API.md 4). */
export class IamTokenResponse {
  @ApiProperty()
  id!: number;

  @ApiProperty({ description: 'The whole key when created; later its prefix' })
  key!: string;

  @ApiProperty()
  is_active!: boolean;

  @ApiProperty()
  permanent!: boolean;

  @ApiProperty({ type: Number, nullable: true })
  space_id!: number | null;

  @ApiProperty({ format: 'date-time' })
  created!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires!: string | null;
}

export class IamSpaceResponse {
  @ApiProperty()
  id!: number;

  @ApiProperty()
  name!: string;

  @ApiProperty({ format: 'date-time' })
  created!: string;
}

export class IamSpaceListResponse {
  @ApiProperty({ type: [IamSpaceResponse] })
  results!: IamSpaceResponse[];

  @ApiProperty()
  count!: number;
}

export class IamSpaceRef {
  @ApiProperty()
  id!: number;

  @ApiProperty()
  name!: string;
}

export class IamWhoamiResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  username!: string;

  @ApiProperty({ format: 'email' })
  email!: string;

  @ApiProperty({ type: String, nullable: true })
  first_name!: string | null;

  @ApiProperty({ type: String, nullable: true })
  last_name!: string | null;

  @ApiProperty()
  role!: string;

  @ApiProperty()
  is_active!: boolean;

  @ApiProperty({ type: IamSpaceRef, nullable: true, description: 'The space of a space-scoped token' })
  space!: IamSpaceRef | null;
}

export class IamLoginUser {
  @ApiProperty()
  username!: string;
}

export class IamLoginToken {
  @ApiProperty()
  id!: number;

  @ApiProperty({ description: 'The whole key: send it as `Authorization: Token <key>`' })
  key!: string;

  @ApiProperty()
  is_active!: boolean;

  @ApiProperty({ format: 'date-time' })
  created!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires!: string | null;
}

/** `POST /v1/auth/token` (API.md 4). */
export class IamLoginResponse {
  @ApiProperty({ type: IamLoginUser })
  user!: IamLoginUser;

  @ApiProperty({ type: IamLoginToken })
  token!: IamLoginToken;
}
