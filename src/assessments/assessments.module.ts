import { Module } from '@nestjs/common';
import { AssessmentSessionsController } from './assessment-sessions.controller';
import { AssessmentSessionsService } from './assessment-sessions.service';
import { AssessmentsRepository } from './assessments.repository';
import { SessionIdStrategy } from './session-id.strategy';
import { AccessModule } from '../access/access.module';

@Module({
  imports: [AccessModule],
  providers: [AssessmentSessionsService, AssessmentsRepository, SessionIdStrategy],
  controllers: [AssessmentSessionsController],
})
export class AssessmentsModule {}
