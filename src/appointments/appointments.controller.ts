import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { IsDateString, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser, Roles } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { RequiresSubscription } from '../access/subscription.guard';
import { AppointmentsService, AppointmentView, PatientView } from './appointments.service';
import { ApiErrors, ClinicalError } from '../common/errors/error-responses';
import {
  AppointmentCreatedResponse,
  AppointmentEnvelopeResponse,
  AppointmentListResponse,
  PatientListResponse,
} from './appointments.responses';

class CreateAppointmentDto {
  @ApiProperty({ description: 'the id of an existing patient' })
  @IsUUID('all', { message: 'patient_id must be a patient id (uuid)' })
  patient_id!: string;

  @ApiProperty({ example: '2026-12-01T09:30:00Z' })
  @IsDateString({ strict: true }, { message: 'scheduled_at must be an ISO 8601 date and time' })
  scheduled_at!: string;

  @ApiProperty({ example: 'Follow-up' })
  @IsString({ message: 'reason is required' })
  @MinLength(1, { message: 'reason is required' })
  @MaxLength(2000)
  reason!: string;
}

@ApiTags('clinical')
@ApiBearerAuth()
@ErrorDialect('clinical')
@Controller('api')
@ApiErrors('clinical')
export class AppointmentsController {
  constructor(private readonly appointments: AppointmentsService) {}

  @Post('appointments')
  @Roles(['doctor'])
  @RequiresSubscription()
  @ApiOperation({
    operationId: 'appointments.create',
    summary: 'Book an appointment with an existing patient (doctor with an active subscription)',
  })
  @ApiForbiddenResponse({
    type: ClinicalError,
    example: { success: false, error: 'An active subscription is required', code: 'SUBSCRIPTION_REQUIRED' },
  })
  @ApiCreatedResponse({
    type: AppointmentCreatedResponse,
    example: { success: true, appointment: { id: 'uuid', doctor_id: 'uuid', patient_id: 'uuid' } },
  })
  async create(@CurrentUser() user: AuthUser, @Body() body: CreateAppointmentDto) {
    const appointment = await this.appointments.create(user, body.patient_id, new Date(body.scheduled_at), body.reason);
    return { success: true, appointment };
  }

  @Get('appointments')
  @Roles(['doctor', 'patient'])
  @ApiOperation({
    operationId: 'appointments.list',
    summary: "The caller's appointments: a doctor's or a patient's own; everything for an admin",
  })
  @ApiOkResponse({ type: AppointmentListResponse })
  async list(@CurrentUser() user: AuthUser): Promise<{ success: true; appointments: AppointmentView[] }> {
    return { success: true, appointments: await this.appointments.list(user) };
  }

  @Get('appointments/:id')
  @Roles(['doctor', 'patient'])
  @ApiOperation({ operationId: 'appointments.get', summary: "One appointment; somebody else's is 404" })
  @ApiOkResponse({ type: AppointmentEnvelopeResponse })
  async get(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
  ): Promise<{ success: true; appointment: AppointmentView }> {
    return { success: true, appointment: await this.appointments.get(user, id) };
  }

  @Get('patients')
  @Roles(['doctor'])
  @ApiOperation({
    operationId: 'appointments.patients',
    summary: 'The patients a doctor has appointments with (every patient for an admin)',
  })
  @ApiOkResponse({ type: PatientListResponse })
  async patients(@CurrentUser() user: AuthUser): Promise<{ success: true; patients: PatientView[] }> {
    return { success: true, patients: await this.appointments.patients(user) };
  }
}
