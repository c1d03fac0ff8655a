jest.mock('./otel', () => {
  throw new Error('the OpenTelemetry SDK was loaded');
});

import { startTracing } from './tracing';
import { tracingEnabled } from './route-template';

describe('startTracing', () => {
  it('loads nothing of OpenTelemetry while no OTLP endpoint is set', () => {
    expect(startTracing({})).toBeUndefined();
    expect(startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeUndefined();
    expect(startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(
      undefined,
    );
    expect(tracingEnabled()).toBe(false);
  });

  it('loads the SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
    expect(() => startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toThrow(
      'the OpenTelemetry SDK was loaded',
    );
  });
});
