import { ApiProperty } from '@nestjs/swagger';

/** The clinical surface's answers (API.md 2): `success: true` beside the data. */
export class AppointmentResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  doctor_id!: string;

  @ApiProperty({ format: 'uuid' })
  patient_id!: string;

  @ApiProperty({ format: 'date-time' })
  scheduled_at!: string;

  @ApiProperty()
  reason!: string;

  @ApiProperty()
  status!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class PatientResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'email' })
  email!: string;

  @ApiProperty({ type: String, nullable: true })
  firstName!: string | null;

  @ApiProperty({ type: String, nullable: true })
  lastName!: string | null;
}

export class AppointmentListResponse {
  @ApiProperty({ enum: [true] })
  success!: true;

  @ApiProperty({ type: [AppointmentResponse] })
  appointments!: AppointmentResponse[];
}

export class AppointmentEnvelopeResponse {
  @ApiProperty({ enum: [true] })
  success!: true;

  @ApiProperty({ type: AppointmentResponse })
  appointment!: AppointmentResponse;
}

export class PatientListResponse {
  @ApiProperty({ enum: [true] })
  success!: true;

  @ApiProperty({ type: [PatientResponse] })
  patients!: PatientResponse[];
}

/** `POST /api/appointments`: 201 with the new appointment. */
export class AppointmentCreatedResponse extends AppointmentEnvelopeResponse {}
