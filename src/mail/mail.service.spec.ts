import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { MailService } from './mail.service';

describe('MailService without SMTP_URL (development)', () => {
  it('writes each message to DATA_DIR/mail as .eml and logs it without the body', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'identity-mail-'));
    const logged: unknown[] = [];
    const spy = jest.spyOn(Logger.prototype, 'log').mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
    const sut = new MailService({
      dataDir,
      env: 'development',
      mail: { from: 'Identity <no-reply@localhost>' },
    } as AppConfig);
    try {
      expect(sut.mode).toBe('file');
      await sut.send({
        to: 'pat@example.org',
        subject: 'Your sign-in link',
        text: 'https://portal/auth?token=SECRET-TOKEN',
      });
      const files = readdirSync(join(dataDir, 'mail')).filter((f) => f.endsWith('.eml'));
      expect(files).toHaveLength(1);
      const eml = readFileSync(join(dataDir, 'mail', files[0]), 'utf8');
      expect(eml).toContain('To: pat@example.org');
      expect(eml).toContain('SECRET-TOKEN');
      expect(JSON.stringify(logged)).toContain('pat@example.org');
      expect(JSON.stringify(logged)).not.toContain('SECRET-TOKEN');
      expect(await sut.check()).toEqual({ ok: true, mode: 'file' });
    } finally {
      spy.mockRestore();
      sut.onApplicationShutdown();
    }
  });

  it('writes the decoded text beside each .eml, so that a long link stays whole on one line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'identity-mail-'));
    const spy = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const sut = new MailService({
      dataDir,
      env: 'development',
      mail: { from: 'Identity <no-reply@localhost>' },
    } as AppConfig);
    // Long enough that quoted-printable must break it, with the `=` that it encodes as `=3D`.
    const link = `http://localhost:3000/api/verification/verify?token=${'Ab0_-'.repeat(12)}`;
    try {
      await sut.send({
        to: 'grace@clinic.example',
        subject: 'Verify your email address',
        text: `Welcome,\n\n${link}\n`,
      });
      await sut.send({ to: 'pat@example.org', subject: 'Second', text: 'second mail\n' });
      const dir = join(dataDir, 'mail');
      const names = readdirSync(dir).sort();
      expect(names.filter((f) => f.endsWith('.partial'))).toEqual([]);
      const emls = names.filter((f) => f.endsWith('.eml'));
      const txts = names.filter((f) => f.endsWith('.txt'));
      expect(txts).toEqual(emls.map((f) => f.replace(/\.eml$/, '.txt')));
      expect(readFileSync(join(dir, emls[0]), 'utf8')).not.toContain(link);
      expect(readFileSync(join(dir, txts[0]), 'utf8')).toBe(
        `To: grace@clinic.example\nSubject: Verify your email address\n\nWelcome,\n\n${link}\n`,
      );
      // The newest is the last one listed, as the README's one-line command assumes.
      expect(readFileSync(join(dir, txts[1]), 'utf8')).toContain('second mail');
      expect(statSync(join(dir, txts[0])).mode & 0o777).toBe(0o600);
    } finally {
      spy.mockRestore();
      sut.onApplicationShutdown();
    }
  });
});
