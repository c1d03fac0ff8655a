import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { Roles } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { trim } from '../common/dto/query';
import { ClientsService, ClientView } from './clients.service';
import { ClientResponse } from './tokens.responses';
import { ApiErrors } from '../common/errors/error-responses';

class CreateClientDto {
  @ApiProperty({ example: 'ios-app', description: '1 to 64 letters, digits, dots, dashes or underscores' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'id must be 1 to 64 letters, digits, dots, dashes or underscores' })
  id!: string;

  @ApiProperty({ example: 'iOS app' })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ description: "lifetime of this client's key:token pairs in seconds (default KEY_TOKEN_TTL)" })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(365 * 86400)
  token_ttl_seconds?: number;
}

class UpdateClientDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ description: 'false: its credentials can no longer log in or refresh' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Seconds; null: the service default' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsInt()
  @Min(60)
  @Max(365 * 86400)
  token_ttl_seconds?: number | null;
}

@ApiTags('key:token clients (admin)')
@ApiBearerAuth()
@ErrorDialect('portal')
@Roles(['admin'])
@Controller('api/clients')
@ApiErrors('portal')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Get()
  @ApiOperation({ operationId: 'clients.list', summary: 'The client applications of the key:token surface (admin)' })
  @ApiOkResponse({ type: [ClientResponse] })
  list(): Promise<ClientView[]> {
    return this.clients.list();
  }

  @Post()
  @ApiOperation({
    operationId: 'clients.create',
    summary: 'Register a client application (admin); 409 if the id exists',
  })
  @ApiCreatedResponse({ type: ClientResponse })
  create(@Body() body: CreateClientDto): Promise<ClientView> {
    return this.clients.create(body.id, body.name, body.token_ttl_seconds ?? null);
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'clients.update',
    summary: 'Rename, deactivate or change the token lifetime of a client (admin)',
  })
  @ApiOkResponse({ type: ClientResponse })
  update(@Param('id') id: string, @Body() body: UpdateClientDto): Promise<ClientView> {
    return this.clients.update(id, body);
  }
}
