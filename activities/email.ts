// The hosted link by email (seed 002). The workflow passes only the verification id: the address
// is read here from the verification row, so it never enters workflow history.
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { emailDeliveries, verifications } from '../db/schema/index.ts';
import type { MailMessage } from '../wiring/mailer.ts';
import { FailureType } from '../domain/failures.ts';
import type { ActivityDeps } from './deps.ts';

export const SESSION_LINK_EMAIL = 'session_link';

export interface SendLinkEmailRequest {
  verificationId: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function sessionLinkEmail(input: { to: string; firstName: string | undefined; link: string; expiresAt: Date | null }): MailMessage {
  const greeting = input.firstName ? `Hello ${input.firstName},` : 'Hello,';
  const expiry = input.expiresAt ? `The link is valid until ${input.expiresAt.toUTCString()}.` : '';
  return {
    to: input.to,
    subject: 'Verify your identity',
    text: `${greeting}\n\nPlease verify your identity by opening this link:\n\n${input.link}\n\n${expiry}\nIf you did not expect this email, you can ignore it.\n`,
    html:
      `<p>${escapeHtml(greeting)}</p><p>Please verify your identity by opening this link:</p>` +
      `<p><a href="${escapeHtml(input.link)}">${escapeHtml(input.link)}</a></p>` +
      (expiry ? `<p>${escapeHtml(expiry)}</p>` : '') +
      '<p>If you did not expect this email, you can ignore it.</p>',
  };
}

async function recordEmail(
  db: Database,
  verificationId: string,
  to: string,
  outcome: { status: 'sent'; messageId: string } | { status: 'failed'; error: string },
): Promise<void> {
  const values = {
    status: outcome.status,
    to,
    providerMessageId: outcome.status === 'sent' ? outcome.messageId : null,
    error: outcome.status === 'failed' ? outcome.error.slice(0, 500) : null,
    sentAt: outcome.status === 'sent' ? new Date() : null,
  };
  await db
    .insert(emailDeliveries)
    .values({ verificationId, kind: SESSION_LINK_EMAIL, attempts: 1, ...values })
    .onConflictDoUpdate({
      target: [emailDeliveries.verificationId, emailDeliveries.kind],
      set: { ...values, attempts: sql`${emailDeliveries.attempts} + 1`, updatedAt: new Date() },
    });
}

export function createEmailActivities({ db, mailer, logger }: ActivityDeps) {
  return {
    /**
     * Sends the hosted link once (a retry after a successful send does nothing). An SMTP failure is
     * recorded and thrown, so the workflow's retry policy tries again; a missing SMTP
     * configuration or link is recorded as failed and not retried.
     */
    async sendVerificationLinkEmail({ verificationId }: SendLinkEmailRequest): Promise<{ sent: boolean }> {
      const [row] = await db
        .select({ applicant: verifications.applicant, sessionUrl: verifications.sessionUrl, expiresAt: verifications.expiresAt })
        .from(verifications)
        .where(eq(verifications.id, verificationId));
      if (!row)
        throw ApplicationFailure.create({
          type: FailureType.verificationNotFound,
          message: `Verification ${verificationId} not found`,
          nonRetryable: true,
        });
      const to = row.applicant?.email;
      if (!to) {
        logger.warn({ verificationId }, 'link email requested without an applicant email');
        return { sent: false };
      }
      const [previous] = await db
        .select({ status: emailDeliveries.status })
        .from(emailDeliveries)
        .where(and(eq(emailDeliveries.verificationId, verificationId), eq(emailDeliveries.kind, SESSION_LINK_EMAIL)));
      if (previous?.status === 'sent') return { sent: true };
      if (!mailer || !row.sessionUrl) {
        const error = mailer ? 'The provider session has no hosted link to send' : 'Email is not configured (SMTP_URL is not set)';
        await recordEmail(db, verificationId, to, { status: 'failed', error });
        logger.warn({ verificationId, reason: error }, 'link email not sent');
        return { sent: false };
      }
      try {
        const { messageId } = await mailer.send(
          sessionLinkEmail({ to, firstName: row.applicant?.firstName, link: row.sessionUrl, expiresAt: row.expiresAt }),
        );
        await recordEmail(db, verificationId, to, { status: 'sent', messageId });
        logger.info({ verificationId }, 'link email sent');
        return { sent: true };
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        await recordEmail(db, verificationId, to, { status: 'failed', error: message });
        // No address in logs or in the failure (it would land in workflow history).
        logger.warn({ verificationId, code: (err as { code?: string }).code }, 'link email failed');
        throw ApplicationFailure.create({
          type: FailureType.emailFailed,
          message: `The SMTP server did not accept the email (${(err as { code?: string }).code ?? 'error'})`,
        });
      }
    },
  };
}
