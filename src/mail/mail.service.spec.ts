import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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
      const files = readdirSync(join(dataDir, 'mail'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\.eml$/);
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
});
