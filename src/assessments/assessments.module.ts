import { Module } from '@nestjs/common';
import { AssessmentSessionsController } from './assessment-sessions.controller';
import { AssessmentSessionsService } from './assessment-sessions.service';
import { SessionIdStrategy } from './session-id.strategy';
import { AccessModule } from '../access/access.module';

@Module({
  imports: [AccessModule],
  providers: [AssessmentSessionsService, SessionIdStrategy],
  controllers: [AssessmentSessionsController],
})
export class AssessmentsModule {}
