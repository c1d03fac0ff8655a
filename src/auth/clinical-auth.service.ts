import { Injectable, Logger, Optional } from '@nestjs/common';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { EmailVerificationService } from '../users/email-verification.service';
import { UsersService } from '../users/users.service';
import { ClinicalLoginDto, ClinicalRegisterDto } from './dto/clinical-auth.dto';
import { PasswordCheck } from './password-check.service';
import { LoginBody } from '../sessions/session-issuer.service';
import { User } from '../users/entities/user.entity';
import { ClientInfo } from '../access/client-info';
import { SignInService } from './sign-in.service';

export interface ClinicalLoginBody {
  success: true;
  token: string;
  uid: string;
  userTitle: string | null;
  firstName: string | null;
  lastName: string | null;
  expiresIn: number;
}

/** The clinical app's login body (API.md 2), for a password login and for the second step of one. */
export function clinicalLoginBody(
  user: Pick<User, 'id' | 'title' | 'firstName' | 'lastName'>,
  session: LoginBody,
): ClinicalLoginBody {
  return {
    success: true,
    token: session.access_token,
    uid: user.id,
    userTitle: user.title,
    firstName: user.firstName,
    lastName: user.lastName,
    expiresIn: session.expires_in,
  };
}

@Injectable()
export class ClinicalAuthService {
  private readonly logger = new Logger('ClinicalAuth');

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly verification: EmailVerificationService,
    private readonly passwords: PasswordCheck,
    private readonly signIns: SignInService,
    private readonly audit: AuditService,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

  /** Self-sign-up: always a doctor, unverified, with a verification mail. A `role` in the body is ignored. */
  async register(dto: ClinicalRegisterDto, client: ClientInfo) {
    const { user, token } = await this.dataSource.transaction(async (m) => {
      const user = await this.users.create(
        {
          email: dto.email,
          password: dto.password,
          role: 'doctor',
          title: dto.title,
          firstName: dto.firstName,
          lastName: dto.lastName,
          specialty: dto.specialty,
          ehrSystemType: dto.ehr_system_type,
          ehrSystemName: dto.ehr_system_name,
          emailVerified: false,
        },
        m,
      );
      return { user, token: await this.verification.issue(m, user.id) };
    });
    await this.audit.record('user_registered', {
      userId: user.id,
      ip: client.ip,
      details: { role: 'doctor', surface: 'clinical' },
    });
    try {
      await this.verification.send(user.email, token);
    } catch (e) {
      // The account exists; the user can ask for the mail again (POST /api/verification/resend).
      this.logger.error(`verification mail to a new user failed: ${(e as Error).message}`);
    }
    return {
      success: true as const,
      message: 'User registered successfully. Please verify your email.',
      user: { id: user.id, email: user.email, isVerified: false },
    };
  }

  /** The password is checked first, so that "not verified" is only ever told to someone who knows it. */
  async login(dto: ClinicalLoginDto, client: ClientInfo): Promise<ClinicalLoginBody> {
    const user = await this.passwords.verify(dto.email, dto.password, client, 'Invalid email or password');
    if (!user.emailVerified) {
      this.metrics.signIn('password', 'unverified');
      throw new DomainError('EMAIL_NOT_VERIFIED', 'Email verification required');
    }
    const remember = dto.remember ?? false;
    const session = await this.signIns.signIn(user, {
      method: 'clinical',
      remember,
      surface: 'clinical',
      ...client,
      claims: { userId: user.id },
      audit: { surface: 'clinical', remember },
    });
    return clinicalLoginBody(user, session);
  }
}
