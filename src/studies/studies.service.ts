import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { isUuid } from '../common/identifiers';
import { Study } from './study.entity';

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
