import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { SsoAccountsService } from './accounts.service';
import type { SsoLinkView } from './links.repository';
import { SsoLinkResponse } from './sso.responses';
import { ApiErrors } from '../common/errors/error-responses';

/** What the admin console shows of a user's institutions; links end with their provider's removal. */
@ApiTags('portal: single sign-on')
@ApiBearerAuth()
@ErrorDialect('portal')
@Roles(['admin'])
@Controller('api/users/:id/sso-links')
@ApiErrors('portal')
export class SsoLinksController {
  constructor(private readonly accounts: SsoAccountsService) {}

  @Get()
  @ApiOperation({
    operationId: 'admin.users.ssoLinks.list',
    summary: "A user's links to identity providers (admin; added for the console)",
    description: 'Each link is (provider, subject): the provider and its identifier of the person. 404: no such user.',
  })
  @ApiOkResponse({
    type: [SsoLinkResponse],
    example: [
      {
        id: '0b6f3b5e-6a53-4a36-9f0e-9b0f3c1d2e4f',
        provider_id: 'uni-example',
        provider_name: 'University of Example',
        provider_type: 'oidc',
        subject: '248289761001',
        created_at: '2026-12-01T10:00:00.000Z',
        last_login_at: '2026-12-02T08:30:00.000Z',
      },
    ],
  })
  list(@Param('id') id: string): Promise<SsoLinkView[]> {
    return this.accounts.linksOf(id);
  }
}
