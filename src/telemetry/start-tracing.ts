import { startTracing } from './tracing';

/** Imported first by main.ts, so that tracing (when configured) is in place before anything it patches. */
export const tracing = startTracing();
