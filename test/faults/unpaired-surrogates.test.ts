// JSON text may escape half a surrogate pair ("\ud83d"): valid JSON, not valid Unicode, and
// Postgres jsonb refuses it. A signed provider webhook carrying one must still be stored (else the
// provider gets 503 until it gives up); a client's request carrying one is a 400 naming the field.
import { eq } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import t from 'tap';
import { verifications, webhookEvents } from '../../db/schema/index.ts';
import { personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { TEST_API_KEY, startStack } from '../helpers/stack.ts';

const LONE_HIGH = '\\ud83d';
const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };

t.test('unpaired surrogate escapes', async (t) => {
  const stack = await startStack(t, { worker: false });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: 'surrogates' });
  t.equal(created.status, 202);
  const id: string = created.body.id;

  await t.test('a signed Persona webhook whose body has "\\ud83d" is stored and answered 200', async (t) => {
    const event = personaEventBody({
      name: 'inquiry.started',
      status: 'pending',
      createdAt: new Date(),
      inquiryId: 'inq_surrogate',
      referenceId: id,
    });
    // Into the raw text, so the signature covers exactly the bytes with the escape.
    const body = event.body.replace(
      '"redacted-at":null',
      `"redacted-at":null,"note":"half a smiley ${LONE_HIGH} and a whole one \\ud83d\\ude00"`,
    );
    t.match(body, /\\ud83d and/, 'the body carries a lone surrogate escape');
    const response = await postPersonaWebhook(stack.apiUrl, body);
    t.equal(response.status, 200, `answered 200: ${JSON.stringify(response.body)}`);
    const [row] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, event.eventId));
    t.ok(row, 'stored');
    const note = (row?.payload as { data: { attributes: { note: string } } }).data.attributes.note;
    t.equal(note, 'half a smiley \ufffd and a whole one 😀', 'the lone half became U+FFFD; the pair is kept');
    t.equal(row?.verificationId, id, 'matched to its verification');
  });

  await t.test('a client body with "\\ud83d" answers 400 problem+json naming the field', async (t) => {
    const before = await stack.directDb.$count(verifications);
    const cases: [string, string, RegExp][] = [
      ['reference', `{"provider":"persona","reference":"a${LONE_HIGH}b"}`, /'reference'/],
      ['metadata', `{"provider":"persona","metadata":{"note":"x${LONE_HIGH}"}}`, /'metadata\.note'/],
      ['metadata key', `{"provider":"persona","metadata":{"k${LONE_HIGH}":"x"}}`, /'metadata\.k/],
      ['lone low half', `{"provider":"persona","reference":"\\ude00"}`, /'reference'/],
    ];
    for (const [name, payload, field] of cases) {
      const request: InjectOptions = { method: 'POST', url: '/v1/verifications', headers: auth, payload };
      const res = await stack.app.inject(request);
      t.equal(res.statusCode, 400, `${name}: 400, not 500`);
      t.match(res.headers['content-type'], /^application\/problem\+json/, `${name}: problem+json`);
      t.match(res.json(), { status: 400, detail: field }, `${name}: the detail names the field: ${res.json().detail}`);
    }
    t.equal(await stack.directDb.$count(verifications), before, 'nothing stored');
    const paired = await stack.app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: auth,
      payload: '{"provider":"persona","reference":"ok \\ud83d\\ude00"}',
    });
    t.equal(paired.statusCode, 202, 'a complete pair is fine');
  });
});
