import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SubscriptionGuard } from '../access/subscription.guard';
import { User } from '../users/entities/user.entity';
import { Appointment } from './appointment.entity';
import { AppointmentsController } from './appointments.controller';
import { AppointmentsService } from './appointments.service';

@Module({
  imports: [TypeOrmModule.forFeature([Appointment, User])],
  providers: [AppointmentsService, SubscriptionGuard],
  controllers: [AppointmentsController],
})
export class AppointmentsModule {}
