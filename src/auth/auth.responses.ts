import { ApiProperty } from '@nestjs/swagger';
import { UserResponse } from '../users/users.responses';

/** The login body of API.md 1.1: every way of signing in that yields a JWT answers it. */
export class LoginResponse {
  @ApiProperty()
  access_token!: string;

  @ApiProperty({ enum: ['bearer'] })
  token_type!: 'bearer';

  @ApiProperty({ description: 'Seconds' })
  expires_in!: number;

  @ApiProperty()
  refresh_token!: string;

  @ApiProperty({ type: UserResponse })
  user!: UserResponse;
}

/** A live login session (API.md 1.3). */
export class LoginSessionResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'How it was opened: password, magic_link, mfa, passkey, sso' })
  method!: string;

  @ApiProperty()
  remember!: boolean;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time' })
  expires_at!: string;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  user_agent!: string | null;

  @ApiProperty({ description: 'The session making this request' })
  current!: boolean;
}

/** The clinical app's login body (API.md 2), for a password login and for the second step of one. */
export class ClinicalLoginResponse {
  @ApiProperty({ enum: [true] })
  success!: true;

  @ApiProperty()
  token!: string;

  @ApiProperty({ format: 'uuid' })
  uid!: string;

  @ApiProperty({ type: String, nullable: true })
  userTitle!: string | null;

  @ApiProperty({ type: String, nullable: true })
  firstName!: string | null;

  @ApiProperty({ type: String, nullable: true })
  lastName!: string | null;

  @ApiProperty({ description: 'Seconds' })
  expiresIn!: number;
}

export class ClinicalNewUser {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'email' })
  email!: string;

  @ApiProperty({ enum: [false] })
  isVerified!: false;
}

/** `POST /api/register` (API.md 2): the new user, who confirms the address by the mailed link. */
export class ClinicalRegisterResponse {
  @ApiProperty({ enum: [true] })
  success!: true;

  @ApiProperty({ example: 'User registered successfully. Please verify your email.' })
  message!: string;

  @ApiProperty({ type: ClinicalNewUser })
  user!: ClinicalNewUser;
}

/** The clinical surface's answer that only says what happened. */
export class ClinicalMessageResponse {
  @ApiProperty({ enum: [true] })
  success!: true;

  @ApiProperty({ example: 'Email verified successfully' })
  message!: string;
}

/** A new email address confirmed by its link (API.md 12). */
export class EmailConfirmedResponse {
  @ApiProperty({ example: 'Your email address is now new@example.org' })
  message!: string;

  @ApiProperty({ format: 'email' })
  email!: string;
}
