jest.mock('prom-client', () => {
  throw new Error('prom-client was loaded');
});

import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/config';
import { Metrics } from './metrics';
import { MetricsModule } from './metrics.module';

const config = (metricsPort: number | null) =>
  ({ ops: { metricsPort, metricsHost: '127.0.0.1', shutdownDrainMs: 0 } }) as AppConfig;

describe('MetricsModule', () => {
  it('provides a Metrics that counts nothing, without loading prom-client, when METRICS_PORT is unset', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [MetricsModule.forRoot(config(null))] }).compile();
    const metrics = moduleRef.get(Metrics);
    expect(metrics.enabled).toBe(false);
    metrics.signIn('password', 'success');
    expect((await metrics.scrape()).body).toBe('');
  });

  it('loads prom-client when METRICS_PORT is set', async () => {
    await expect(
      Test.createTestingModule({ imports: [MetricsModule.forRoot(config(9464))] }).compile(),
    ).rejects.toThrow('prom-client was loaded');
  });
});
