import { ApiProperty } from '@nestjs/swagger';

export class StudyResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  created_by!: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}
