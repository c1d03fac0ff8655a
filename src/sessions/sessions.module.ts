import { Module } from '@nestjs/common';
import { AssessmentSessionsController } from './assessment-sessions.controller';
import { AssessmentSessionsService } from './assessment-sessions.service';
import { SessionIdStrategy } from './session-id.strategy';

@Module({ providers: [AssessmentSessionsService, SessionIdStrategy], controllers: [AssessmentSessionsController] })
export class SessionsModule {}
