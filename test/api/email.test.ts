// The hosted link by email (seed 002) on the real stack, through a real SMTP server started here
// (the sandbox's catcher, built on smtp-server): the mail arrives with the link, an
// email_deliveries row records it, and the address never enters workflow history.
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import t from 'tap';
import { buildApp } from '../../api/app.ts';
import { timersFromEnv } from '../../config/env.ts';
import { emailDeliveries } from '../../db/schema/index.ts';
import { providersFromEnv } from '../../wiring/providers.ts';
import { startMailCatcher } from '../../sandbox/mail.ts';
import { startSandbox } from '../../sandbox/server.ts';
import { TEST_API_KEY, eventually, startStack } from '../helpers/stack.ts';

t.test('email notification of the hosted link', async (t) => {
  const smtp = await startMailCatcher({ port: 0, rejectRecipient: (address) => address.startsWith('bounce') });
  t.teardown(() => smtp.close());
  const stack = await startStack(t, { env: { SMTP_URL: smtp.url, EMAIL_FROM: 'Acme Verify <verify@acme.test>' } });

  await t.test('notify.email: the link arrives by SMTP, an email_deliveries row says sent', async (t) => {
    const address = 'ada.lovelace@example.com';
    const created = await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'persona', applicant: { firstName: 'Ada', email: address }, notify: { email: true } },
      { prefer: 'wait=15' },
    );
    t.equal(created.status, 201);
    const { id, sessionUrl } = created.body;
    t.match(sessionUrl, /^http:\/\/127\.0\.0\.1:\d+\/persona\/verify\?/);

    const mail = await smtp.waitFor((m) => m.to.includes(address));
    t.equal(mail.subject, 'Verify your identity');
    t.match(mail.from, 'verify@acme.test');
    t.ok(mail.text.includes(sessionUrl), 'the hosted link is in the body');
    t.match(mail.text, /Hello Ada,/);
    t.match(mail.raw, /text\/html/, 'an HTML part too');

    const [row] = await eventually(
      () => stack.database.db.select().from(emailDeliveries).where(eq(emailDeliveries.verificationId, id)),
      (rows) => rows[0]?.status === 'sent',
    );
    t.match(row, {
      kind: 'session_link',
      to: address,
      status: 'sent',
      attempts: 1,
      error: null,
      providerMessageId: /^<.+>$/,
      sentAt: Date,
    });
    t.match(
      mail.raw,
      new RegExp(`Message-ID: ${row!.providerMessageId!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i'),
      'the row names the message the server accepted',
    );

    const history = await stack.temporal.client.workflow.getHandle(`verification-${id}`).fetchHistory();
    const text = JSON.stringify(history);
    t.notOk(text.includes(address), 'the address is not in workflow history');
    t.notOk(text.includes(Buffer.from(address).toString('base64')), 'not even base64-encoded');
    t.equal(smtp.messages().filter((m) => m.to.includes(address)).length, 1, 'sent once');
  });

  await t.test('a bounce is recorded as failed with the SMTP error', async (t) => {
    const created = await stack.request('POST', '/v1/verifications', {
      provider: 'persona',
      applicant: { email: 'bounce@example.com' },
      notify: { email: true },
    });
    t.equal(created.status, 202);
    const [row] = await eventually(
      () => stack.database.db.select().from(emailDeliveries).where(eq(emailDeliveries.verificationId, created.body.id)),
      (rows) => rows.length > 0,
    );
    t.match(row, { to: 'bounce@example.com', status: 'failed', error: /550/, sentAt: null, providerMessageId: null });
  });

  await t.test('no email without notify.email', async (t) => {
    const before = smtp.messages().length;
    const created = await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'persona', applicant: { email: 'quiet@example.com' } },
      { prefer: 'wait=15' },
    );
    t.equal(created.status, 201);
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.equal(smtp.messages().length, before);
    t.same(await stack.database.db.select().from(emailDeliveries).where(eq(emailDeliveries.verificationId, created.body.id)), []);
  });

  await t.test('400 when there is no address, or no SMTP server configured', async (t) => {
    const noAddress = await stack.request('POST', '/v1/verifications', { provider: 'persona', notify: { email: true } });
    t.equal(noAddress.status, 400);
    t.match(noAddress.body, { code: 'applicant_email_required', detail: /applicant\.email/ });
    const unknownField = await stack.request('POST', '/v1/verifications', {
      provider: 'persona',
      applicant: { email: 'a@example.com' },
      notify: { sms: true },
    });
    t.equal(unknownField.status, 400);

    const { SMTP_URL: _unset, ...withoutSmtp } = stack.env;
    const app = await buildApp({
      env: withoutSmtp,
      database: stack.database,
      temporal: stack.temporal.client,
      providers: providersFromEnv(stack.env),
      timers: timersFromEnv(stack.env),
      logger: pino({ level: 'silent' }),
      defaultTemplates: {},
    });
    t.teardown(() => app.close());
    const res = await app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
      payload: { provider: 'persona', applicant: { email: 'a@example.com' }, notify: { email: true } },
    });
    t.equal(res.statusCode, 400);
    t.match(res.json(), { code: 'email_not_configured', detail: /SMTP_URL/ });
  });

  await t.test('the sandbox shows captured mail at /mail (HTML, links clickable) and /mail.json', async (t) => {
    const sandbox = await startSandbox({
      port: 0,
      webhookTargets: { persona: 'http://127.0.0.1:9/unused' },
      secrets: { persona: { apiKey: 'k', webhookSecret: 's' } },
      extraRoutes: smtp.routes,
    });
    t.teardown(() => sandbox.close());
    const listed = (await (await fetch(`${sandbox.url}/mail.json`)).json()) as { data: { subject: string; to: string[]; text: string }[] };
    t.ok(listed.data.some((m) => m.to.includes('ada.lovelace@example.com') && m.subject === 'Verify your identity'));
    const html = await (await fetch(`${sandbox.url}/mail`)).text();
    t.match(html, /<h1>Captured mail<\/h1>/);
    t.match(html, /<a href="http:\/\/127\.0\.0\.1:\d+\/persona\/verify\?/, 'the link is clickable');
  });
});
