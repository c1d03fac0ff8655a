import { ApiExtraModels, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

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

export class LivenessResponse {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}

export class PartStateResponse {
  @ApiProperty({ enum: ['up', 'down'] })
  status!: 'up' | 'down';

  @ApiPropertyOptional({ description: 'Why it is down' })
  message?: string;
}

/** `GET /api/health/ready`: 200 ready, 503 with the parts that are down. */
@ApiExtraModels(PartStateResponse)
export class ReadinessResponse {
  @ApiProperty({ enum: ['ready', 'not_ready', 'stopping'] })
  status!: 'ready' | 'not_ready' | 'stopping';

  @ApiProperty({ type: [String], description: 'The parts that are down (`service` while it stops)' })
  down!: string[];

  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/PartStateResponse' } })
  checks!: Record<string, PartStateResponse>;
}
