// `npm run webhooks`: undeliverable lists what the sweeper gave up on (with the reason); redrive
// puts rows back in its queue, parsing once the rows stored before intake kept the normalised event.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import t from 'tap';
import { webhookEvents, type NewWebhookEvent } from '../../db/schema/index.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { personaEventBody } from '../helpers/persona-webhooks.ts';
import { PERSONA_SECRETS } from '../helpers/stack.ts';

const run = promisify(execFile);

t.test('webhooks CLI', async (t) => {
  const { url, db } = await createTestDatabase(t);
  // Persona is configured, Stripe is not.
  const cli = (...args: string[]) =>
    run(process.execPath, ['scripts/webhooks.ts', ...args], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        LOG_LEVEL: 'silent',
        PERSONA_API_KEY: PERSONA_SECRETS.apiKey,
        PERSONA_WEBHOOK_SECRET: PERSONA_SECRETS.webhookSecret,
        STRIPE_SECRET_KEY: '',
        STRIPE_WEBHOOK_SECRET: '',
      },
    });
  const failing = (...args: string[]) =>
    cli(...args).then(
      () => null,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

  const persona = personaEventBody({
    name: 'inquiry.approved',
    status: 'approved',
    createdAt: new Date('2026-01-02T03:04:05Z'),
    inquiryId: 'inq_cli',
    referenceId: '00000000-0000-4000-8000-000000000001',
  });
  const row = (over: Partial<NewWebhookEvent>): NewWebhookEvent => ({
    provider: 'persona',
    providerEventId: `evt_${Math.random().toString(16).slice(2)}`,
    payload: JSON.parse(persona.body),
    signatureValid: true,
    outcome: 'undeliverable',
    deliveryAttempts: 10,
    errorMessage: 'Not delivered after 10 attempts: workflow execution already completed',
    ...over,
  });
  const [withEvent, legacy, unconfigured, delivered] = await db
    .insert(webhookEvents)
    .values([
      row({ event: { provider: 'persona', providerEventId: 'x', status: 'approved' } }),
      row({
        providerEventId: persona.eventId,
        event: null,
        errorMessage: 'Not delivered after 1 attempts: stored without a normalised event',
      }),
      row({ provider: 'stripe', event: null }),
      row({ outcome: 'applied', errorMessage: null, deliveryAttempts: 1 }),
    ])
    .returning();

  const listed = (await cli('undeliverable')).stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; reason: string; attempts: number });
  t.same(listed.map((r) => r.id).sort(), [withEvent!.id, legacy!.id, unconfigured!.id].sort(), 'lists the undeliverable rows only');
  t.match(
    listed.find((r) => r.id === withEvent!.id),
    { attempts: 10, reason: /after 10 attempts: workflow execution already completed/ },
    'with attempts and reason',
  );

  t.same(JSON.parse((await cli('redrive', withEvent!.id)).stdout), { redriven: [withEvent!.id], skipped: [] });
  const [requeued] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, withEvent!.id));
  t.match(
    requeued,
    { outcome: 'received', deliveryAttempts: 0, errorMessage: null, nextSweepAt: null },
    'back in the sweeper queue with no attempts',
  );

  const notUndeliverable = await failing('redrive', delivered!.id);
  t.match(notUndeliverable, { code: 1 }, 'a row that is not undeliverable is refused');
  t.match(JSON.parse(notUndeliverable!.stdout), { redriven: [], skipped: [{ id: delivered!.id, reason: /not an undeliverable/ }] });

  const all = await failing('redrive', '--all');
  t.match(all, { code: 1 }, 'exit 1 while something stays undeliverable');
  const result = JSON.parse(all!.stdout) as { redriven: string[]; skipped: { id: string; reason: string }[] };
  t.same(result.redriven, [legacy!.id], 'the row stored without an event is parsed and re-driven');
  t.match(
    result.skipped,
    [{ id: unconfigured!.id, reason: /provider 'stripe' is not configured/ }],
    'a provider no longer configured is named',
  );
  const [parsed] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, legacy!.id));
  t.match(
    parsed,
    {
      outcome: 'received',
      event: { provider: 'persona', providerEventId: persona.eventId, status: 'approved', webhookEventId: legacy!.id },
    },
    'its normalised event is stored',
  );
  t.same(
    (await cli('undeliverable')).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).id),
    [unconfigured!.id],
    'only the unconfigured one is left',
  );

  t.match(await failing('frobnicate'), { code: 2, stderr: /usage: npm run webhooks/ });
});
