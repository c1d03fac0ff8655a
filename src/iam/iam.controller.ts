import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser, Public, Sensitive } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { DomainError } from '../common/errors/domain-error';
import { toBool, toInt, trim } from '../common/dto/query';
import { NoInvisibleCharacters, toIdentifier } from '../common/identifiers';
import { LoginField, RateLimited } from '../common/throttle/rate-limit.decorators';
import { UsersService } from '../users/users.service';
import { IamAuthService } from './iam-auth.service';
import { IamTokensService, MAX_PERMANENT, TokenView } from './iam-tokens.service';
import { SpacesService, SpaceView } from './spaces.service';
import { clientInfo } from '../access/client-info';
import { ApiErrors, IamError } from '../common/errors/error-responses';
import {
  IamLoginResponse,
  IamSpaceListResponse,
  IamSpaceResponse,
  IamTokenResponse,
  IamWhoamiResponse,
} from './iam.responses';

class IamLoginDto {
  @ApiProperty({ description: 'username or email address' })
  @Transform(toIdentifier)
  @IsString({ message: 'This field is required.' })
  @NoInvisibleCharacters('username', { message: 'This field may not hold invisible or formatting characters.' })
  @MinLength(1, { message: 'This field may not be blank.' })
  @MaxLength(320)
  username!: string;

  @ApiProperty()
  @IsString({ message: 'This field is required.' })
  @MinLength(1, { message: 'This field may not be blank.' })
  @MaxLength(1024)
  password!: string;
}

class PasswordChangeDto {
  @ApiProperty()
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  old_password?: string;

  @ApiPropertyOptional({ description: 'the new password, repeated in password2' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password2?: string;

  @ApiPropertyOptional({ description: 'the new password, alone (instead of password and password2)' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  new_password?: string;

  @ApiPropertyOptional({
    description: 'true: every other token, login session and key:token pair of the user ends at once',
  })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  reset_tokens?: boolean;
}

class CreateTokenDto {
  @ApiPropertyOptional({
    description: `permanent tokens never expire (at most ${MAX_PERMANENT} per user, and per space); temporary ones live TEMP_TOKEN_TTL`,
  })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  permanent?: boolean;
}

class UpdateTokenDto {
  @ApiProperty()
  @Transform(toBool)
  @IsBoolean()
  is_active!: boolean;
}

class PageDto {
  @ApiPropertyOptional({ default: 20, maximum: 100 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  offset: number = 0;
}

class TokensQuery extends PageDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  permanent?: boolean;
}

class PermanentFilter {
  @ApiPropertyOptional({ description: 'only permanent (true) or only temporary (false) tokens' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  permanent?: boolean;
}

class SpacesQuery extends PageDto {
  @ApiPropertyOptional({ description: 'search in the name' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

class SpaceDto {
  @ApiProperty({ example: 'Front door' })
  @Transform(trim)
  @IsString({ message: 'This field is required.' })
  @MinLength(1, { message: 'This field may not be blank.' })
  @MaxLength(100)
  name!: string;
}

const TOKEN_KEYS =
  'A token shows its `key` only when it is created (POST /v1/tokens/, POST /v1/spaces/{id}/tokens/, POST /v1/auth/token/); ' +
  'afterwards the `key` field holds only its first characters followed by "…". Keys are stored as hashes and cannot be shown again.';

@ApiTags('iam')
@ApiSecurity('token')
@ErrorDialect('iam')
@Controller('v1')
@ApiErrors('iam')
export class IamController {
  constructor(
    private readonly auth: IamAuthService,
    private readonly tokens: IamTokensService,
    private readonly spaces: SpacesService,
    private readonly users: UsersService,
  ) {}

  @Post('auth/token')
  @Public()
  @RateLimited(['login', 'loginIp'])
  @LoginField('username')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'iam.login',
    summary: 'Log in with username (or email) and password: a temporary token (TEMP_TOKEN_TTL, 24 h)',
  })
  @ApiUnauthorizedResponse({
    type: IamError,
    example: { error_codes: [602], message: 'Username and password do not match.', fields: [] },
  })
  @ApiOkResponse({
    type: IamLoginResponse,
    example: {
      user: { username: 'usr' },
      token: {
        id: 1,
        key: 'tk_…',
        is_active: true,
        created: '2021-05-28T10:37:51.433Z',
        expires: '2021-05-29T10:37:51.433Z',
      },
    },
  })
  login(@Body() body: IamLoginDto, @Req() req: FastifyRequest) {
    return this.auth.login(body.username, body.password, clientInfo(req));
  }

  @Post('auth/password/change')
  @Sensitive({ action: 'your password was changed', delegated: 'allowed' })
  @HttpCode(204)
  @ApiOperation({
    operationId: 'iam.password.change',
    summary: 'Change the password',
    description:
      '`old_password`, then `password` and `password2` (or `new_password` alone). A wrong old password: 400 with the field error ' +
      '"Incorrect password.". `reset_tokens: true` ends every other token, login session and key:token pair of the user at once; ' +
      'the credential making the request keeps working. API keys are revoked too.',
  })
  @ApiNoContentResponse()
  changePassword(
    @CurrentUser() user: AuthUser,
    @Body() body: PasswordChangeDto,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    return this.auth.changePassword(user, body, clientInfo(req));
  }

  @Get('whoami')
  @ApiOperation({
    operationId: 'iam.whoami',
    summary: 'The current user, and the space of a space-scoped token (null otherwise)',
  })
  @ApiOkResponse({ type: IamWhoamiResponse })
  async whoami(@CurrentUser() caller: AuthUser) {
    const user = await this.users.findByIdCached(caller.id);
    if (!user || !user.isActive)
      throw new DomainError('INVALID_TOKEN', 'The account behind this credential is gone or disabled');
    const space = caller.spaceId ? await this.spaces.own(caller.id, caller.spaceId) : null;
    return {
      id: user.id,
      username: user.username ?? user.email,
      email: user.email,
      first_name: user.firstName,
      last_name: user.lastName,
      role: user.role,
      is_active: user.isActive,
      space: space ? { id: space.id, name: space.name } : null,
    };
  }

  @Post('tokens')
  @ApiOperation({
    operationId: 'iam.tokens.create',
    summary: 'Create a token (permanent or temporary); the response is the only time its key is shown',
    description: TOKEN_KEYS,
  })
  @ApiCreatedResponse({ type: IamTokenResponse, description: 'The token; its whole key is shown this once' })
  createToken(@CurrentUser() user: AuthUser, @Body() body: CreateTokenDto): Promise<TokenView> {
    return this.tokens.create(user.id, body.permanent ?? false);
  }

  @Get('tokens')
  @ApiOperation({
    operationId: 'iam.tokens.list',
    summary: "The caller's tokens, newest first (JSON array); `permanent` filters",
    description: TOKEN_KEYS,
  })
  @ApiOkResponse({ type: [IamTokenResponse] })
  listTokens(@CurrentUser() user: AuthUser, @Query() q: TokensQuery): Promise<TokenView[]> {
    return this.tokens.list(user.id, q);
  }

  @Delete('tokens')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'iam.tokens.removeAll',
    summary: 'Delete every token of the caller (or only permanent/temporary ones) except the one in use',
  })
  @ApiNoContentResponse()
  removeTokens(@CurrentUser() user: AuthUser, @Query() q: PermanentFilter): Promise<void> {
    return this.tokens.removeAll(user, q.permanent);
  }

  @Get('tokens/:idOrKey')
  @ApiOperation({
    operationId: 'iam.tokens.get',
    summary: "One token, by id or by key; somebody else's is 404",
    description: TOKEN_KEYS,
  })
  @ApiOkResponse({ type: IamTokenResponse })
  getToken(@CurrentUser() user: AuthUser, @Param('idOrKey') idOrKey: string): Promise<TokenView> {
    return this.tokens.get(user.id, idOrKey);
  }

  @Patch('tokens/:idOrKey')
  @ApiOperation({
    operationId: 'iam.tokens.update',
    summary: 'Activate or deactivate a token (form or JSON body); an inactive token is refused at once',
  })
  @ApiOkResponse({ type: IamTokenResponse })
  patchToken(
    @CurrentUser() user: AuthUser,
    @Param('idOrKey') idOrKey: string,
    @Body() body: UpdateTokenDto,
  ): Promise<TokenView> {
    return this.tokens.setActive(user.id, idOrKey, body.is_active);
  }

  @Put('tokens/:idOrKey')
  @ApiOperation({ operationId: 'iam.tokens.replace', summary: 'The same as PATCH' })
  @ApiOkResponse({ type: IamTokenResponse })
  putToken(
    @CurrentUser() user: AuthUser,
    @Param('idOrKey') idOrKey: string,
    @Body() body: UpdateTokenDto,
  ): Promise<TokenView> {
    return this.tokens.setActive(user.id, idOrKey, body.is_active);
  }

  @Delete('tokens/:idOrKey')
  @HttpCode(204)
  @ApiOperation({ operationId: 'iam.tokens.remove', summary: 'Delete a token; it is refused at once' })
  @ApiNoContentResponse()
  removeToken(@CurrentUser() user: AuthUser, @Param('idOrKey') idOrKey: string): Promise<void> {
    return this.tokens.remove(user.id, idOrKey);
  }

  @Post('spaces')
  @ApiOperation({ operationId: 'iam.spaces.create', summary: 'Create a space' })
  @ApiCreatedResponse({ type: IamSpaceResponse, example: { id: 1, name: 'Front door', created: '…' } })
  createSpace(@CurrentUser() user: AuthUser, @Body() body: SpaceDto): Promise<SpaceView> {
    return this.spaces.create(user.id, body.name);
  }

  @Get('spaces')
  @ApiOperation({
    operationId: 'iam.spaces.list',
    summary: "The caller's spaces, newest first: {results, count}; `q` searches the name",
  })
  @ApiOkResponse({ type: IamSpaceListResponse })
  listSpaces(@CurrentUser() user: AuthUser, @Query() q: SpacesQuery) {
    return this.spaces.list(user.id, { search: q.q, limit: q.limit, offset: q.offset });
  }

  @Get('spaces/:id')
  @ApiOperation({ operationId: 'iam.spaces.get', summary: "One space; somebody else's is 404" })
  @ApiOkResponse({ type: IamSpaceResponse })
  getSpace(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<SpaceView> {
    return this.spaces.own(user.id, id);
  }

  @Patch('spaces/:id')
  @ApiOperation({ operationId: 'iam.spaces.update', summary: 'Rename a space' })
  @ApiOkResponse({ type: IamSpaceResponse })
  patchSpace(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: SpaceDto): Promise<SpaceView> {
    return this.spaces.rename(user.id, id, body.name);
  }

  @Put('spaces/:id')
  @ApiOperation({ operationId: 'iam.spaces.replace', summary: 'The same as PATCH' })
  @ApiOkResponse({ type: IamSpaceResponse })
  putSpace(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: SpaceDto): Promise<SpaceView> {
    return this.spaces.rename(user.id, id, body.name);
  }

  @Delete('spaces/:id')
  @HttpCode(202)
  @ApiOperation({ operationId: 'iam.spaces.remove', summary: 'Delete a space and its tokens (202)' })
  @ApiAcceptedResponse({ description: 'Deleted, with its tokens (no body)' })
  async removeSpace(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.spaces.remove(user.id, id);
  }

  @Post('spaces/:id/tokens')
  @ApiOperation({
    operationId: 'iam.spaces.tokens.create',
    summary: 'Create a token scoped to the space: its requests carry the space (see whoami)',
    description: TOKEN_KEYS,
  })
  @ApiCreatedResponse({ type: IamTokenResponse })
  async createSpaceToken(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: CreateTokenDto,
  ): Promise<TokenView> {
    const space = await this.spaces.own(user.id, id);
    return this.tokens.create(user.id, body.permanent ?? false, String(space.id));
  }
}
