import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuthUser } from '../access/auth-user';
import { DomainError } from '../common/errors/domain-error';
import { User } from '../users/entities/user.entity';
import { Appointment } from './appointment.entity';
import { isUuid } from '../common/identifiers';

export interface AppointmentView {
  id: string;
  doctor_id: string;
  patient_id: string;
  scheduled_at: string;
  reason: string;
  status: string;
  created_at: string;
}

export interface PatientView {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
}

const view = (a: Appointment): AppointmentView => ({
  id: a.id,
  doctor_id: a.doctorId,
  patient_id: a.patientId,
  scheduled_at: a.scheduledAt.toISOString(),
  reason: a.reason,
  status: a.status,
  created_at: a.createdAt.toISOString(),
});

/** Appointments: a doctor sees their own, a patient theirs, an admin everything; anything else does not exist (404). */
@Injectable()
export class AppointmentsService {
  constructor(
    @InjectRepository(Appointment) private readonly appointments: Repository<Appointment>,
    @InjectRepository(User) private readonly users: Repository<User>,
  ) {}

  async create(doctor: AuthUser, patientId: string, scheduledAt: Date, reason: string): Promise<AppointmentView> {
    const patient = isUuid(patientId)
      ? await this.users.findOne({ where: { id: patientId, role: 'patient', isActive: true } })
      : null;
    if (!patient) throw new DomainError('NOT_FOUND', 'Patient not found');
    const saved = await this.appointments.save(
      this.appointments.create({ doctorId: doctor.id, patientId, scheduledAt, reason: reason.trim() }),
    );
    return view(saved);
  }

  private scope(caller: AuthUser): Record<string, string> {
    if (caller.role === 'admin') return {};
    if (caller.role === 'doctor') return { doctorId: caller.id };
    return { patientId: caller.id };
  }

  async list(caller: AuthUser): Promise<AppointmentView[]> {
    const rows = await this.appointments.find({ where: this.scope(caller), order: { scheduledAt: 'ASC' } });
    return rows.map(view);
  }

  async get(caller: AuthUser, id: string): Promise<AppointmentView> {
    const row = isUuid(id) ? await this.appointments.findOne({ where: { id, ...this.scope(caller) } }) : null;
    if (!row) throw new DomainError('NOT_FOUND', 'Appointment not found');
    return view(row);
  }

  /** A doctor's patients are those they have appointments with; an admin sees every patient. */
  async patients(caller: AuthUser): Promise<PatientView[]> {
    const qb = this.users
      .createQueryBuilder('u')
      .where(`u.role = 'patient'`)
      .orderBy('u.lastName', 'ASC')
      .addOrderBy('u.email', 'ASC');
    if (caller.role !== 'admin') {
      qb.andWhere('EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = u.id AND a.doctor_id = :doctor)', {
        doctor: caller.id,
      });
    }
    return (await qb.getMany()).map((u) => ({
      id: u.id,
      email: u.email,
      firstName: u.firstName,
      lastName: u.lastName,
    }));
  }
}
