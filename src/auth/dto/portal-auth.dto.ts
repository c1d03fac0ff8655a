import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { toBool } from '../../common/dto/query';
import { NoInvisibleCharacters, OptionalIdentifier, toIdentifier } from '../../common/identifiers';
import { ROLES, type Role } from '../../common/roles';

export class LoginDto {
  @ApiPropertyOptional({ description: 'email address or username', example: 'admin@example.com' })
  @OptionalIdentifier('username')
  username?: string;

  @ApiPropertyOptional({ description: 'email address or username (either field works)' })
  @OptionalIdentifier('email')
  email?: string;

  @ApiProperty({ example: 'your-password' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({ description: 'a 30-day access token instead of 24 h (JWT_REMEMBER_EXPIRES_IN)' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  remember?: boolean;

  @ApiPropertyOptional({ description: 'also set the auth_token, refresh_token and csrf_token cookies' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  set_cookie?: boolean;
}

export class LogoutAllDto {
  @ApiPropertyOptional({ description: 'also end API keys and permanent IAM tokens' })
  @IsOptional()
  @IsBoolean()
  include_keys?: boolean;
}

export class RefreshDto {
  @ApiPropertyOptional({ description: 'the refresh token; may instead come from the refresh_token cookie' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  refresh_token?: string;
}

export class RegisterUserDto {
  @ApiProperty({
    example: 'participant@example.org',
    description: 'stored NFKC-normalised and lower-cased; invisible or formatting characters are refused',
  })
  @Transform(toIdentifier)
  @NoInvisibleCharacters('email')
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email!: string;

  @ApiPropertyOptional({ description: 'required except for patients and caregivers (who sign in by magic link)' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES as unknown as string[], { message: `role must be one of ${ROLES.join(', ')}` })
  role!: Role;

  @ApiPropertyOptional({ description: '3 to 64 letters, digits, dots, dashes or underscores' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, {
    message: 'username must be 3 to 64 letters, digits, dots, dashes or underscores',
  })
  username?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  first_name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  last_name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(50)
  title?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  specialty?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  ehr_system_type?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  ehr_system_name?: string;
}
