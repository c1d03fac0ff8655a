import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
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
export class StudiesController {
  constructor(private readonly studies: StudiesService) {}

  @Get()
  @Roles(PORTAL_ROLES)
  @ApiOperation({ summary: 'Every study, newest first (any portal role: admin, researcher, coordinator, viewer)' })
  list(): Promise<StudyView[]> {
    return this.studies.list();
  }

  @Get(':id')
  @Roles(PORTAL_ROLES)
  @ApiOperation({ summary: 'One study (any portal role)' })
  get(@Param('id') id: string): Promise<StudyView> {
    return this.studies.get(id);
  }

  @Post()
  @Roles(['admin'])
  @ApiOperation({ summary: 'Create a study (admin only; other roles 403)' })
  @ApiCreatedResponse()
  create(@CurrentUser() user: AuthUser, @Body() body: CreateStudyDto): Promise<StudyView> {
    return this.studies.create(body.name, body.description ?? '', user.id);
  }
}
