import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import nodemailer, { Transporter } from 'nodemailer';
import { makePrivateDir, publishPrivateFile, writePrivateFile } from '../common/private-files';
import { APP_CONFIG, type AppConfig } from '../config/config';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/**
 * The one way out for mail. With SMTP_URL it speaks SMTP; without it (development) each message is
 * written to DATA_DIR/mail as an .eml file, with its decoded text beside it (`<same name>.txt`), and
 * announced in the log without its body: mail carries single-use links, and secrets never reach the log.
 */
@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly logger = new Logger('Mail');
  private readonly transport: Transporter;
  readonly mode: 'smtp' | 'file';
  private readonly dir: string;
  private lastFileMs = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.dir = join(config.dataDir, 'mail');
    if (config.mail.smtpUrl) {
      this.mode = 'smtp';
      this.transport = nodemailer.createTransport(config.mail.smtpUrl, { from: config.mail.from });
    } else {
      this.mode = 'file';
      this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
      if (config.env === 'production') this.logger.warn('SMTP_URL is not set: mail is written to files, not sent');
    }
  }

  async send(message: MailMessage): Promise<void> {
    const info = await this.transport.sendMail({ from: this.config.mail.from, ...message });
    if (this.mode === 'file') {
      await makePrivateDir(this.dir);
      // Names begin with the time to the millisecond, one millisecond apart at least: the newest mail
      // is the last one listed.
      this.lastFileMs = Math.max(Date.now(), this.lastFileMs + 1);
      const stamp = new Date(this.lastFileMs).toISOString().replace(/[:.]/g, '-');
      const base = join(this.dir, `${stamp}-${randomBytes(4).toString('hex')}`);
      const file = `${base}.eml`;
      await writePrivateFile(file, (info as unknown as { message: Buffer }).message);
      // The .eml body is quoted-printable: a link breaks across lines and reads `token=3D...`. The .txt
      // holds the text as written, one link per line. It appears whole (a rename), after the .eml, so
      // a script that waits for it never reads half a mail.
      const text = `${base}.txt`;
      await publishPrivateFile(text, `To: ${message.to}\nSubject: ${message.subject}\n\n${message.text}`);
      this.logger.log({ to: message.to, subject: message.subject, file, text }, 'mail written to file');
    } else {
      this.logger.log({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
    }
  }

  /** For the health page: can the SMTP server be reached and does it accept our login? */
  async check(timeoutMs = 3000): Promise<{ ok: boolean; mode: string; error?: string }> {
    if (this.mode === 'file') return { ok: true, mode: 'file' };
    try {
      await Promise.race([
        this.transport.verify(),
        new Promise((_, rej) => setTimeout(() => rej(new Error('timed out')), timeoutMs).unref()),
      ]);
      return { ok: true, mode: 'smtp' };
    } catch (e) {
      return { ok: false, mode: 'smtp', error: (e as Error).message };
    }
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
