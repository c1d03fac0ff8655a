import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { LoginBody } from '../sessions/session-issuer.service';
import { Public } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { NoInvisibleCharacters, toIdentifier } from '../common/identifiers';
import { RateLimited } from '../common/throttle/rate-limit.decorators';
import { MagicLinkService } from './magic-link.service';
import { MagicTokenGuard } from './magic-link.strategy';
import { clientInfo } from '../access/client-info';
import { MessageResponse } from '../mfa/mfa.responses';
import { ApiErrors, PortalError } from '../common/errors/error-responses';
import { LoginResponse } from '../auth/auth.responses';

class MagicLinkRequestDto {
  @ApiProperty({ example: 'patient@example.org' })
  @Transform(toIdentifier)
  @NoInvisibleCharacters('email')
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email!: string;
}

class MagicLinkVerifyDto {
  @ApiProperty({ description: 'the token from the link in the mail' })
  @IsString()
  @MaxLength(256)
  token!: string;
}

@ApiTags('portal: magic link')
@ErrorDialect('portal')
@Controller('api/auth/magic-link')
@ApiErrors('portal')
export class MagicLinkController {
  constructor(private readonly links: MagicLinkService) {}

  @Post()
  @Public()
  @RateLimited(['magicLink'])
  @HttpCode(202)
  @ApiOperation({
    operationId: 'magicLink.request',
    summary: 'Mail a one-time sign-in link (active patients and caregivers only)',
    description:
      'Always 202 with the same body, at once, for a syntactically valid address, registered or not, whatever its ' +
      'role; the mail goes only to active `patient` and `caregiver` accounts (every other role signs in with its ' +
      'password) and carries `${PORTAL_URL}/auth?token=...`, valid MAGIC_LINK_TTL (15 minutes), once. Asking again ' +
      'sends a new link and leaves older unexpired links working. The address is NFKC-normalised and lower-cased; ' +
      'one with invisible or formatting characters is a 400. Limited per IP and email (RATE_LIMIT_MAGIC_LINK).',
  })
  @ApiAcceptedResponse({ type: MessageResponse, example: { message: 'Magic link sent to patient@example.org' } })
  request(@Body() body: MagicLinkRequestDto, @Req() req: FastifyRequest): { message: string } {
    this.links.request(body.email, clientInfo(req));
    return { message: `Magic link sent to ${body.email}` };
  }

  @Post('verify')
  @Public()
  @UseGuards(MagicTokenGuard)
  @RateLimited(['loginIp'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'magicLink.verify',
    summary: 'Exchange a magic-link token for the login body of POST /api/auth/login',
    description:
      'A POST, never a GET, so that mail scanners opening links cannot use them up. Used, expired, unknown or ' +
      'malformed tokens: 401 INVALID_TOKEN, and a failed attempt uses nothing up. So is a link whose account has ' +
      'since been disabled or given a role other than patient or caregiver. Verifies the email address.',
  })
  @ApiUnauthorizedResponse({
    type: PortalError,
    example: { error: { code: 'INVALID_TOKEN', message: 'This sign-in link is invalid, expired or already used' } },
  })
  @ApiOkResponse({ type: LoginResponse })
  verify(@Body() body: MagicLinkVerifyDto, @Req() req: FastifyRequest): Promise<LoginBody> {
    return this.links.verify(body.token, clientInfo(req));
  }
}
