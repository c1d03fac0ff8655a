import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { User } from './entities/user.entity';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The user as the portal and the key:token surface show it: never the hash. */
export interface PublicUser {
  id: string;
  email: string;
  username: string | null;
  role: string;
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  specialty: string | null;
  ehr_system_type: string | null;
  ehr_system_name: string | null;
  email_verified: boolean;
  is_active: boolean;
  subscription_status: string;
  subscription_ends_at: string | null;
  created_at: string;
  updated_at: string;
}

export function toPublicUser(u: User): PublicUser {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    role: u.role,
    first_name: u.firstName,
    last_name: u.lastName,
    title: u.title,
    specialty: u.specialty,
    ehr_system_type: u.ehrSystemType,
    ehr_system_name: u.ehrSystemName,
    email_verified: u.emailVerified,
    is_active: u.isActive,
    subscription_status: u.subscriptionStatus,
    subscription_ends_at: u.subscriptionEndsAt ? u.subscriptionEndsAt.toISOString() : null,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  findById(id: string): Promise<User | null> {
    return this.users.findOne({ where: { id } });
  }

  /** Every login identifier accepts an email address or a username (API.md section 0). */
  findByLogin(identifier: string): Promise<User | null> {
    const value = identifier.trim();
    return this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('lower(u.email) = lower(:value) OR lower(u.username) = lower(:value)', { value })
      .orderBy('(lower(u.email) = lower(:value))', 'DESC')
      .limit(1)
      .getOne();
  }

  async updatePasswordHash(id: string, hash: string): Promise<void> {
    await this.users.update({ id }, { passwordHash: hash });
  }
}
