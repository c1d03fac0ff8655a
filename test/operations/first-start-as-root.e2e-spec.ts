import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort, spawnService } from '../support/process';

const REPO = resolve(__dirname, '..', '..');
const isRoot = userInfo().uid === 0;

/** The files of a clone of this working tree (tracked, and new ones not ignored), with the installed node_modules. */
function cloneInto(dir: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && existsSync(join(REPO, f)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(REPO, file), join(dir, file));
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

/** The processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // The fourth field of /proc/<pid>/stat is the parent's pid (after the command, which is in parentheses).
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** `npm start` in the clone, in a process group of its own as a terminal's foreground job. */
function npmStart(cwd: string, port: number, env: Record<string, string> = {}): Started {
  let out = '';
  const child = spawn('npm', ['start'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function waitUntil(svc: Started, path: string, status: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let dead = false;
  void svc.exited.then(() => (dead = true));
  while (Date.now() - started < timeoutMs) {
    if (dead) throw new Error(`npm start ended before it answered:\n${svc.output()}`);
    const res = await fetch(`${svc.url}${path}`).catch(() => undefined);
    if (res?.status === status) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${path} did not answer ${status} within ${timeoutMs} ms:\n${svc.output()}`);
}

/** Ctrl-C at the terminal: SIGINT to the whole group (npm, the shell, the service and its PostgreSQL). */
async function ctrlC(svc: Started): Promise<void> {
  process.kill(-svc.child.pid!, 'SIGINT');
  await svc.exited;
  const deadline = Date.now() + 30_000;
  // The group is gone when its last member has exited.
  while (Date.now() < deadline) {
    try {
      process.kill(-svc.child.pid!, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the process group did not end');
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * The README's first screen, followed as a newcomer (and CI, and a container) does: as root, on a fresh
 * clone, `npm start` builds the server and the pages together and serves both; Ctrl-C stops it; a
 * second `npm start` opens the same database. Then the operator's side: readiness with the database
 * paused (SIGSTOP) and resumed, a refusal with the reason rather than a second cluster, and a backup
 * restored.
 */
describe('npm start on a fresh clone, as root', () => {
  const parent = mkdtempSync(join(tmpdir(), 'identity-clone-'));
  const clone = join(parent, 'identity-service');
  const dataDir = join(clone, '.data');
  const fallback = join(tmpdir(), `identity-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`);
  let adminPassword = '';
  let studyId = '';

  beforeAll(() => {
    chmodSync(parent, 0o755); // an ordinary place: other users may pass through, as under /home or /srv
    cloneInto(clone);
  });

  afterAll(() => {
    rmSync(parent, { recursive: true, force: true });
    rmSync(fallback, { recursive: true, force: true });
  });

  const signIn = async (url: string) => {
    const res = await fetch(`${url}/api/auth/login`, json({ username: 'admin@example.com', password: adminPassword }));
    expect(res.status).toBe(200);
    return { Authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
  };

  it('builds the server and the pages, serves /account and /admin, and keeps what was made', async () => {
    expect(isRoot || process.env.CI !== 'true').toBe(true); // CI runs as root: this is the path under test there
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    const first = npmStart(clone, await freePort());
    try {
      await waitUntil(first, '/api/health', 200, 300_000);
      const out = first.output();
      // Every long step says what it is doing, before it does it.
      expect(out).toContain('[build] compiling the server (nest build)');
      expect(out).toContain('bundling the pages (account, admin)');
      expect(out).toContain('initialising an embedded PostgreSQL cluster');
      expect(out).toContain('applying the pending database migrations');
      for (const page of ['account', 'admin']) {
        const res = await fetch(`${first.url}/${page}`);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain(`/assets/${page}.js`);
        expect((await fetch(`${first.url}/assets/${page}.js`)).status).toBe(200);
      }
      adminPassword = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
      const auth = await signIn(first.url);
      const study = await fetch(`${first.url}/api/studies`, {
        ...json({ name: 'Kept across restarts', description: 'made by the first start' }),
        headers: { ...auth, 'Content-Type': 'application/json' },
      });
      expect(study.status).toBe(201);
      studyId = ((await study.json()) as { id: string }).id;
    } finally {
      await ctrlC(first);
    }
    expect(first.output()).toContain('embedded PostgreSQL stopped');
    // The cluster is where it was decided to be, and remembered there; DATA_DIR stays passable for postgres.
    expect(readFileSync(join(dataDir, 'pg-location'), 'utf8').trim()).toBe(dataDir);
    expect(existsSync(join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    if (isRoot) expect(statSync(dataDir).mode & 0o001).toBe(0o001);

    const second = npmStart(clone, await freePort());
    try {
      await waitUntil(second, '/api/health', 200, 300_000);
      const out = second.output();
      expect(out).not.toContain('initialising');
      expect(out).not.toContain('First admin created');
      const auth = await signIn(second.url);
      const studies = (await (await fetch(`${second.url}/api/studies`, { headers: auth })).json()) as { id: string }[];
      expect(studies.map((s) => s.id)).toContain(studyId);
      expect((await fetch(`${second.url}/admin`)).status).toBe(200);

      // Readiness: 200 while PostgreSQL answers; 503 naming it within 2 s while it is paused; 200 again.
      expect((await fetch(`${second.url}/api/health/ready`)).status).toBe(200);
      // The whole server: the postmaster and every process it forked (each connection's backend among them).
      const postmaster = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      const server = [postmaster, ...childrenOf(postmaster)];
      for (const pid of server) process.kill(pid, 'SIGSTOP');
      try {
        for (let probe = 0; probe < 2; probe++) {
          const asked = Date.now();
          const res = await fetch(`${second.url}/api/health/ready`);
          expect(Date.now() - asked).toBeLessThan(2000);
          expect(res.status).toBe(503);
          expect(await res.json()).toMatchObject({ status: 'not_ready', down: ['database'] });
        }
        expect((await fetch(`${second.url}/api/health`)).status).toBe(200); // liveness asks no one
      } finally {
        for (const pid of server) process.kill(pid, 'SIGCONT');
      }
      await waitUntil(second, '/api/health/ready', 200, 15_000);
    } finally {
      await ctrlC(second);
    }
    expect(existsSync(fallback)).toBe(false);
  }, 600_000);

  (isRoot ? it : it.skip)(
    'refuses to start (exit 78) with the reason when its cluster cannot be opened, and creates no other',
    async () => {
      chmodSync(dataDir, 0o700);
      try {
        const closed = spawnService({ DATA_DIR: dataDir }, await freePort());
        expect(await closed.exited).toBe(78);
        expect(closed.output()).toContain(`chmod o+x ${dataDir}`);
        expect(closed.output()).toContain('No new cluster is created while this one exists');
      } finally {
        chmodSync(dataDir, 0o755);
      }
      expect(existsSync(fallback)).toBe(false);

      renameSync(join(dataDir, 'pg'), join(dataDir, 'pg.moved'));
      try {
        const gone = spawnService({ DATA_DIR: dataDir }, await freePort());
        expect(await gone.exited).toBe(78);
        expect(gone.output()).toContain('is not there any more');
        expect(existsSync(join(dataDir, 'pg'))).toBe(false);
      } finally {
        renameSync(join(dataDir, 'pg.moved'), join(dataDir, 'pg'));
      }
      expect(existsSync(fallback)).toBe(false);
    },
    60_000,
  );

  it('restores a backup of the embedded database made as docs/operations.md says (stopped, then copied)', async () => {
    const backup = join(parent, 'identity-backup.tar.gz');
    execFileSync('tar', ['-C', dataDir, '-czf', backup, 'pg', 'pg-password', 'pg-location']);
    // Disaster: the cluster is lost.
    rmSync(join(dataDir, 'pg'), { recursive: true, force: true });
    execFileSync('tar', ['-C', dataDir, '-xzpf', backup]);
    const svc = spawnService({ DATA_DIR: dataDir }, await freePort());
    try {
      await waitUntil({ ...svc }, '/api/health/ready', 200, 60_000);
      const auth = await signIn(svc.url);
      const studies = (await (await fetch(`${svc.url}/api/studies`, { headers: auth })).json()) as { id: string }[];
      expect(studies.map((s) => s.id)).toContain(studyId);
      svc.child.kill('SIGTERM');
      expect(await svc.exited).toBe(0);
    } finally {
      svc.child.kill('SIGKILL');
    }
  }, 120_000);
});
