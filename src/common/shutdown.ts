/**
 * Whether this process has begun to stop (SIGTERM or SIGINT: main.ts, through ReadinessService). A stop by
 * Ctrl-C reaches the embedded PostgreSQL at the same moment, so background work that fails while the
 * service stops (a revocation poll, a sweep) is expected then: it says so at debug level, not as a warning.
 */
let stopping = false;

export function processStopping(): boolean {
  return stopping;
}

export function markProcessStopping(): void {
  stopping = true;
}
