import { Body, Controller, Get, Injectable, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { trim } from '../common/dto/query';
import { Repository } from 'typeorm';
import { type AuthUser } from '../auth/auth-user';
import { CurrentUser, Roles } from '../auth/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { DomainError } from '../common/errors/domain-error';
import { PORTAL_ROLES } from '../users/roles';
import { isUuid } from '../users/users.service';
import { Study } from './study.entity';

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

export interface StudyView {
  id: string;
  name: string;
  description: string;
  created_by: string | null;
  created_at: string;
}

const view = (s: Study): StudyView => ({
  id: s.id,
  name: s.name,
  description: s.description,
  created_by: s.createdBy,
  created_at: s.createdAt.toISOString(),
});

@Injectable()
export class StudiesService {
  constructor(@InjectRepository(Study) private readonly studies: Repository<Study>) {}

  async list(): Promise<StudyView[]> {
    return (await this.studies.find({ order: { createdAt: 'DESC' } })).map(view);
  }

  async get(id: string): Promise<StudyView> {
    const study = isUuid(id) ? await this.studies.findOne({ where: { id } }) : null;
    if (!study) throw new DomainError('NOT_FOUND', 'Study not found');
    return view(study);
  }

  async create(name: string, description: string, createdBy: string): Promise<StudyView> {
    const saved = await this.studies.save(this.studies.create({ name: name.trim(), description, createdBy }));
    return view(saved);
  }
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
