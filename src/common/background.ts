import { Logger } from '@nestjs/common';

/**
 * Work that runs after the response (mail whose lookup must not show in the answer or its timing): a
 * failure is logged, never thrown at a caller who already has their answer, and `settled()` waits for what
 * is still running, so that mail promised to a caller goes out before the process ends (and tests can wait).
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(what: string, work: Promise<void>): void {
    const job: Promise<void> = work
      .catch((e: Error) => this.logger.error(`${what} failed: ${e.message}`))
      .finally(() => this.running.delete(job));
    this.running.add(job);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.running]);
  }
}
