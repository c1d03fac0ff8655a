import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { trim } from '../common/dto/query';
import type { FastifyRequest } from 'fastify';
import { type AuthUser } from '../access/auth-user';
import { AuthSchemes, CurrentUser } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { ApiKeysService, ApiKeyView, NewApiKey } from './api-keys.service';
import { ApiKeyResponse, NewApiKeyResponse } from './tokens.responses';
import { ApiErrors } from '../common/errors/error-responses';

class CreateApiKeyDto {
  @ApiProperty({ example: 'nightly export' })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 3650, description: 'omit for a key that does not expire' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  expires_in_days?: number;
}

@ApiTags('portal: api keys')
@ApiBearerAuth()
@ErrorDialect('portal')
@Controller('api/api-keys')
@ApiErrors('portal')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  // A leaked key must not be able to mint keys that outlive its own revocation.
  @AuthSchemes(['jwt'])
  @ApiOperation({
    operationId: 'apiKeys.create',
    summary: 'Create an API key (shown once, in `key`); use it as `X-API-Key: <key>`',
    description:
      "The key acts with its owner's current role; only its hash is stored; `prefix` identifies it in listings.",
  })
  @ApiCreatedResponse({
    type: NewApiKeyResponse,
    description: 'The key, shown this once',
    example: {
      id: 'uuid',
      name: 'nightly export',
      key: 'pk_…',
      prefix: 'pk_AbCdEfGh',
      created_at: '…',
      expires_at: null,
    },
  })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateApiKeyDto, @Req() req: FastifyRequest): Promise<NewApiKey> {
    return this.keys.create(user.id, body.name, body.expires_in_days, req.ip);
  }

  @Get()
  @ApiOperation({ operationId: 'apiKeys.list', summary: "The caller's API keys (never the key itself: its prefix)" })
  @ApiOkResponse({ type: [ApiKeyResponse] })
  list(@CurrentUser() user: AuthUser): Promise<ApiKeyView[]> {
    return this.keys.list(user.id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'apiKeys.revoke',
    summary: "Revoke one of the caller's API keys; it is refused at once. Unknown or another user's: 404",
  })
  @ApiNoContentResponse()
  revoke(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: FastifyRequest): Promise<void> {
    return this.keys.revoke(user.id, id, req.ip);
  }
}
