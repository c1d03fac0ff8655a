import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, ServiceProcess, spawnService, waitForHealth } from '../support/process';

/**
 * The walkthrough's examples (docs/walkthrough.md) as a newcomer meets them: every `bash` block marked
 * `<!-- runnable: <name> -->` is pasted, in the page's order, into one shell next to a freshly started
 * service, and must succeed and say what the page says it says. So the walkthrough cannot drift from the
 * service again.
 */

export interface MarkdownBlock {
  lang: string;
  code: string;
  /** The name of `<!-- runnable: <name> -->` on the line before the fence, if any. */
  runnable?: string;
  line: number;
}

const RUNNABLE = /^<!--\s*runnable:\s*([\w-]+)\s*-->$/;

export function fencedBlocks(markdown: string): MarkdownBlock[] {
  const lines = markdown.split('\n');
  const blocks: MarkdownBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    const marker = RUNNABLE.exec((lines[start - 1] ?? '').trim());
    blocks.push({ lang: open[1], code: body.join('\n'), runnable: marker?.[1], line: start + 1 });
  }
  return blocks;
}

/** What each runnable block must print (besides finishing with status 0). */
const EXPECTED: Record<string, RegExp[]> = {
  'first-start': [/\{"status":"ok"\}/],
  portal: [
    /"token_type":"bearer"/,
    /"refresh_token":"[\w-]{43}"/,
    /"name":"Sleep and memory"/,
    /^\[\{"id":"[^"]+","name":"Sleep and memory"/m,
    /^204$/m,
    /"code":"INVALID_TOKEN"/,
  ],
  patient: [
    /"email":"patient@example\.org"[^\n]*"role":"patient"/,
    /\{"message":"Magic link sent to patient@example\.org"\}/,
    /"session_id":"sess_[\w-]+","participant_id":"P001","battery_id":"battery_1","status":"active"/,
    /"trial_count":1\}/,
  ],
  clinical: [
    /"user":\{"id":"[^"]+","email":"grace@clinic\.example","isVerified":false\}/,
    /"code":"EMAIL_NOT_VERIFIED"/,
    /\{"success":true,"message":"Email verified successfully"\}/,
    /\{"success":true,"token":"eyJ[^"]+","uid":"[^"]+","userTitle":"Dr\.","firstName":"Grace","lastName":"Hopper","expiresIn":2592000\}/,
  ],
  'key-token': [
    /"role":"viewer","key":"kt_[\w-]+","token":"[\w-]+","refresh":"[\w-]+","expires":"/,
    /"email":"u@example\.org"/,
    /"pending_email":"new@example\.org"/,
    /"message":"Your email address is now new@example\.org","email":"new@example\.org"/,
    /^401\n204$/m,
  ],
  sso: [
    /"code":"VALIDATION_ERROR","message":"the issuer's discovery document could not be used: [^"]+"/,
    /"code":"NOT_FOUND"/,
  ],
  mfa: [
    /^201$/m,
    /^otpauth:\/\/totp\/Identity:ada%40example\.org\?/m,
    /"recovery_codes":\["[a-z2-9]{5}-[a-z2-9]{5}"/,
    /"code":"MFA_REQUIRED"/,
    /\{"access_token":"eyJ[^"]+","token_type":"bearer"/,
  ],
  iam: [
    /"username":"usr"[^\n]*"role":"researcher"/,
    /\{"user":\{"username":"usr"\},"token":\{"id":\d+,"key":"tk_[\w-]+","is_active":true/,
    /"username":"usr","email":"usr@example\.org"[^\n]*"space":null\}/,
    /"permanent":true,"space_id":null/,
    /"key":"tk_[\w-]+…","is_active":false/,
    /^204$/m,
  ],
};

const ROOT = join(__dirname, '..', '..');
const WALKTHROUGH = 'docs/walkthrough.md';
const blocks = fencedBlocks(readFileSync(join(ROOT, WALKTHROUGH), 'utf8'));
/** The README keeps no `curl` example of its own: they all live in the walkthrough, where they are run. */
const readmeBlocks = fencedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const runnable = blocks.filter((b) => b.runnable !== undefined);

function commandExists(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('the walkthrough marks its examples', () => {
  it('marks every bash block that calls curl as runnable', () => {
    const unmarked = blocks.filter((b) => b.lang === 'bash' && /\bcurl\b/.test(b.code) && !b.runnable);
    expect(unmarked.map((b) => `${WALKTHROUGH}:${b.line}`)).toEqual([]);
    expect(runnable.every((b) => b.lang === 'bash')).toBe(true);
  });

  it('leaves no curl example in the README, where it would not be run', () => {
    const curls = readmeBlocks.filter((b) => b.lang === 'bash' && /\bcurl\b/.test(b.code));
    expect(curls.map((b) => `README.md:${b.line}`)).toEqual([]);
  });

  it('names each runnable block once, and this suite knows what each one prints', () => {
    const names = runnable.map((b) => b.runnable);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(Object.keys(EXPECTED).sort());
  });
});

// curl is what the walkthrough's examples use; .ci/run installs it, so in CI its absence is a failure.
const describeWithCurl: jest.Describe = commandExists('curl') || process.env.CI ? describe : describe.skip;

describeWithCurl("the walkthrough's examples, pasted in order on a fresh start", () => {
  const MARK = '@@readme-block';
  const work = mkdtempSync(join(tmpdir(), 'identity-readme-'));
  const dataDir = join(work, '.data');
  let svc: ServiceProcess | undefined;
  let databaseName = '';
  const outputs = new Map<string, string>();
  let finished = new Set<string>();
  let shell = { code: null as number | null, output: '' };

  beforeAll(async () => {
    // A database of its own on the test run's PostgreSQL server, created empty, like a first start's.
    const admin = new URL(process.env.TEST_DATABASE_URL!);
    databaseName = `identity_readme_w${process.env.JEST_WORKER_ID ?? '1'}`;
    const c = new Client({ connectionString: admin.toString() });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${databaseName}"`);
      await c.query(`CREATE DATABASE "${databaseName}"`);
    } finally {
      await c.end();
    }
    const databaseUrl = new URL(admin);
    databaseUrl.pathname = `/${databaseName}`;
    mkdirSync(dataDir);
    const port = await freePort();
    // Defaults everywhere else, as a newcomer has them: development, the default rate limits, APP_URL.
    svc = spawnService({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl.toString() }, port);
    await waitForHealth(svc);

    const script = [
      'exec 2>&1',
      ...runnable.map((b) =>
        [
          `printf '\\n${MARK} start %s\\n' '${b.runnable}'`,
          b.code.replaceAll('localhost:3000', `localhost:${port}`),
          `printf '\\n${MARK} end %s\\n' '${b.runnable}'`,
        ].join('\n'),
      ),
    ].join('\n');
    shell = await runBash(script, work, 150_000);
    let current: string | undefined;
    for (const line of shell.output.split('\n')) {
      const mark = new RegExp(`^${MARK} (start|end) (\\S+)$`).exec(line);
      if (mark?.[1] === 'start') {
        current = mark[2];
        outputs.set(current, '');
      } else if (mark?.[1] === 'end') {
        finished = new Set([...finished, mark[2]]);
        current = undefined;
      } else if (current) {
        outputs.set(current, outputs.get(current)! + line + '\n');
      }
    }
  }, 240_000);

  afterAll(async () => {
    if (svc) {
      svc.child.kill('SIGTERM');
      await svc.exited;
    }
    rmSync(work, { recursive: true, force: true });
    const c = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${databaseName}"`).finally(() => c.end());
  });

  it.each(runnable.map((b) => [b.runnable!, b.line] as const))(
    'block "%s" (docs/walkthrough.md:%d) runs to the end and prints what the walkthrough says',
    (name) => {
      const out = outputs.get(name);
      if (!finished.has(name)) {
        throw new Error(
          out === undefined
            ? `the block did not run: an earlier block failed (shell exit ${shell.code})`
            : `the block failed (shell exit ${shell.code}); its output:\n${out}`,
        );
      }
      for (const expected of EXPECTED[name] ?? []) expect(out).toMatch(expected);
    },
  );

  it('ran every block with status 0, and the service never printed the admin password they read', () => {
    expect(shell.code).toBe(0);
    const password = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
    expect(svc!.output()).not.toContain(password);
  });
});

/** Runs a script in a new bash, as a newcomer's terminal would, but stopping at the first failure. */
function runBash(script: string, cwd: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd,
      // A clean environment: nothing of the test run's (proxies, DATABASE_URL) leaks into the examples.
      // NODE_PATH: the checkout's packages, which a newcomer pasting in the checkout has (the MFA example
      // lets the otpauth package play the authenticator app).
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: cwd,
        LANG: 'C.UTF-8',
        NODE_PATH: join(__dirname, '..', '..', 'node_modules'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n(timed out after ${timeoutMs} ms)\n`;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
