import { ApiProperty } from '@nestjs/swagger';

/** `GET /api/health/detailed` (admin): terminus's shape, one entry per dependency. */
export class HealthDetailsResponse {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'] })
  status!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The dependencies that are up' })
  info!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The dependencies that are down' })
  error!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Every dependency' })
  details!: Record<string, unknown>;
}
