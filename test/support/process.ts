import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/database/embedded-postgres';

export { freePort };

export const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Runs the production build (`node dist/main.js`) as its own process, the way an operator starts it.
 * `processGroup` gives it a process group of its own, as a shell gives a foreground job: a signal sent
 * to the group (`process.kill(-pid)`) reaches the service and its PostgreSQL alike, as Ctrl-C does.
 */
export function spawnService(
  env: Record<string, string>,
  port: number,
  { processGroup = false }: { processGroup?: boolean } = {},
): ServiceProcess {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` first (npm test does)');
  let out = '';
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: processGroup,
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

/** Polls until the service answers its liveness route, or the process dies, or time runs out. */
export async function waitForHealth(svc: ServiceProcess, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  let dead = false;
  void svc.exited.then(() => (dead = true));
  while (Date.now() - started < timeoutMs) {
    if (dead) throw new Error(`the service exited before it answered:\n${svc.output()}`);
    try {
      const res = await fetch(`${svc.url}/api/health`);
      if (res.status === 200) return Date.now() - started;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer within ${timeoutMs} ms:\n${svc.output()}`);
}

/** The JSON lines of a service's output (the first-admin notice and the like are plain text). */
export function jsonLines(output: string): { level: number; time: number; msg?: string; context?: string }[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}
