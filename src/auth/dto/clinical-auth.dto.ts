import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { toBool, trim } from '../../common/dto/query';
import { NoInvisibleCharacters, toIdentifier } from '../../common/identifiers';

const required = (field: string) => ({ message: `${field} is required` });

export class ClinicalRegisterDto {
  @ApiProperty({ example: 'Dr.' })
  @Transform(trim)
  @IsString(required('title'))
  @IsNotEmpty(required('title'))
  @MaxLength(50)
  title!: string;

  @ApiProperty({ example: 'Grace' })
  @Transform(trim)
  @IsString(required('firstName'))
  @IsNotEmpty(required('firstName'))
  @MaxLength(100)
  firstName!: string;

  @ApiProperty({ example: 'Hopper' })
  @Transform(trim)
  @IsString(required('lastName'))
  @IsNotEmpty(required('lastName'))
  @MaxLength(100)
  lastName!: string;

  @ApiProperty({ example: 'grace@clinic.example' })
  @Transform(toIdentifier)
  @IsString(required('email'))
  @IsNotEmpty(required('email'))
  @NoInvisibleCharacters('email')
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email!: string;

  @ApiProperty({
    description: '8-128 characters with a lower-case letter, an upper-case letter and a digit; not a common password',
  })
  @IsString(required('password'))
  @IsNotEmpty(required('password'))
  @MaxLength(1024)
  password!: string;

  @ApiProperty({ example: 'Cardiology' })
  @Transform(trim)
  @IsString(required('specialty'))
  @IsNotEmpty(required('specialty'))
  @MaxLength(100)
  specialty!: string;

  @ApiProperty({ example: 'cloud' })
  @Transform(trim)
  @IsString(required('ehr_system_type'))
  @IsNotEmpty(required('ehr_system_type'))
  @MaxLength(100)
  ehr_system_type!: string;

  @ApiProperty({ example: 'Epic' })
  @Transform(trim)
  @IsString(required('ehr_system_name'))
  @IsNotEmpty(required('ehr_system_name'))
  @MaxLength(100)
  ehr_system_name!: string;
}

export class ClinicalLoginDto {
  @ApiProperty({ description: 'email address (a username works too)' })
  @Transform(toIdentifier)
  @IsString(required('email'))
  @IsNotEmpty(required('email'))
  @NoInvisibleCharacters('email')
  @MaxLength(320)
  email!: string;

  @ApiProperty()
  @IsString(required('password'))
  @IsNotEmpty(required('password'))
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({ description: 'true: a 30-day token instead of 24 hours' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'remember must be a boolean' })
  remember?: boolean;
}

export class VerifyEmailDto {
  @ApiProperty({ description: 'the token from the verification mail' })
  @IsString(required('token'))
  @MaxLength(256)
  token!: string;
}

export class ResendVerificationDto {
  @ApiProperty()
  @Transform(toIdentifier)
  @NoInvisibleCharacters('email')
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email!: string;
}
