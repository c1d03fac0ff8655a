/**
 * Runs `sweep` once an hour for as long as the process lives (the timer does not keep it alive); a failed
 * sweep is ignored, the next one tries again. Clear the returned timer on shutdown.
 */
export function sweepHourly(sweep: () => Promise<void>): NodeJS.Timeout {
  const timer = setInterval(() => void sweep().catch(() => undefined), 60 * 60 * 1000);
  timer.unref();
  return timer;
}
