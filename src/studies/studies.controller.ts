import { Body, Controller, Get, Param, Post } from '@nestjs/common';
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
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { trim } from '../common/dto/query';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser, Roles } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { PORTAL_ROLES } from '../common/roles';
import { StudiesService, StudyView } from './studies.service';
import { StudyResponse } from './studies.responses';
import { ApiErrors } from '../common/errors/error-responses';

class CreateStudyDto {
  @ApiProperty({ example: 'Sleep and memory 2026' })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  description?: string;
}

@ApiTags('portal: studies')
@ApiBearerAuth()
@ErrorDialect('portal')
@Controller('api/studies')
@ApiErrors('portal')
export class StudiesController {
  constructor(private readonly studies: StudiesService) {}

  @Get()
  @Roles(PORTAL_ROLES)
  @ApiOperation({
    operationId: 'studies.list',
    summary: 'Every study, newest first (any portal role: admin, researcher, coordinator, viewer)',
  })
  @ApiOkResponse({ type: [StudyResponse] })
  list(): Promise<StudyView[]> {
    return this.studies.list();
  }

  @Get(':id')
  @Roles(PORTAL_ROLES)
  @ApiOperation({ operationId: 'studies.get', summary: 'One study (any portal role)' })
  @ApiOkResponse({ type: StudyResponse })
  get(@Param('id') id: string): Promise<StudyView> {
    return this.studies.get(id);
  }

  @Post()
  @Roles(['admin'])
  @ApiOperation({ operationId: 'studies.create', summary: 'Create a study (admin only; other roles 403)' })
  @ApiCreatedResponse({ type: StudyResponse })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateStudyDto): Promise<StudyView> {
    return this.studies.create(body.name, body.description ?? '', user.id);
  }
}
