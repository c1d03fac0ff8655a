import { Appointment } from './appointments/appointment.entity';
import { AuditEvent } from './audit/audit-event.entity';
import { PendingSignIn } from './auth/pending-sign-in.entity';
import { LoginSession } from './sessions/entities/login-session.entity';
import { RefreshToken } from './sessions/entities/refresh-token.entity';
import { MagicLink } from './magic-link/magic-link.entity';
import { MfaChallenge, MfaFactor, MfaRecoveryCode } from './mfa/entities';
import { Passkey, WebAuthnChallenge } from './passkeys/entities';
import { AssessmentSession, Submission } from './assessments/entities';
import { SigningKey } from './keys/signing-key.entity';
import { SsoLink, SsoProvider } from './sso/entities';
import { Study } from './studies/study.entity';
import { ApiKey } from './tokens/entities/api-key.entity';
import { User } from './users/entities/user.entity';

/** Every TypeORM entity of the service: one list for the application, the migration CLI and ormconfig.ts. */
export const ENTITIES = [
  User,
  LoginSession,
  RefreshToken,
  ApiKey,
  Study,
  AuditEvent,
  MagicLink,
  AssessmentSession,
  Submission,
  Appointment,
  MfaFactor,
  MfaRecoveryCode,
  MfaChallenge,
  PendingSignIn,
  SigningKey,
  Passkey,
  WebAuthnChallenge,
  SsoProvider,
  SsoLink,
];
