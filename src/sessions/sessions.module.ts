import { Module } from '@nestjs/common';
import { AssessmentSessionsController } from './assessment-sessions.controller';
import { AssessmentSessionsService } from './assessment-sessions.service';

@Module({ providers: [AssessmentSessionsService], controllers: [AssessmentSessionsController] })
export class SessionsModule {}
