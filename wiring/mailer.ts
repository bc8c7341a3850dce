// Email out over SMTP (nodemailer). The worker builds one mailer from SMTP_URL and hands it to
// the activities; without SMTP_URL there is none, and emails are recorded as failed.
import { createTransport } from 'nodemailer';
import type { Env } from '../config/env.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Resolves with the Message-ID once the SMTP server accepted the message. */
  send(message: MailMessage): Promise<{ messageId: string }>;
  close(): void;
}

export interface SmtpMailerOptions {
  /** smtp://user:pass@host:port, smtps://… for implicit TLS. */
  url: string;
  from: string;
}

export function createSmtpMailer({ url, from }: SmtpMailerOptions): Mailer {
  // Bounded waits: a hanging SMTP server fails the attempt (and the activity retries) instead of
  // holding it until the activity times out.
  const transport = createTransport({ url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 });
  return {
    async send(message) {
      const info = await transport.sendMail({ from, ...message });
      return { messageId: info.messageId };
    },
    close: () => transport.close(),
  };
}

export function mailerFromEnv(env: Pick<Env, 'SMTP_URL' | 'EMAIL_FROM'>): Mailer | null {
  return env.SMTP_URL ? createSmtpMailer({ url: env.SMTP_URL, from: env.EMAIL_FROM }) : null;
}
