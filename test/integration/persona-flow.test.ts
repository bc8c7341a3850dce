// One Persona verification end to end on the real stack: API -> workflow -> sandbox inquiry ->
// hosted-flow decision -> signed webhooks -> workflow -> Postgres -> GET.
import t from 'tap';
import { decidePersonaInquiry as decide } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';

t.test('persona: create, approve in the hosted flow, GET shows approved with document and history', async (t) => {
  const stack = await startStack(t);
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: 'user-42' }, { prefer: 'wait=15' });
  t.equal(created.status, 201, 'Prefer: wait returns the session');
  t.match(created.body, {
    status: /created|pending|in_progress/,
    provider: 'persona',
    reference: 'user-42',
    sessionUrl: /^http:\/\/127\.0\.0\.1:\d+\/persona\/verify\?/,
  });
  t.match(created.headers['x-correlation-id'], /.+/);
  const id: string = created.body.id;

  const pending = await stack.request('GET', `/v1/verifications/${id}`);
  t.equal(pending.status, 200);
  t.match(pending.body.providerRef, /^inq_/);
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
  t.equal(inquiryId, pending.body.providerRef, 'the session URL is the inquiry the workflow created');

  t.equal(await decide(stack.sandboxUrl, inquiryId, 'approved'), 200);
  // Persona is read before applying, so `approved` may show after the first webhook already;
  // wait until both webhooks are in the history.
  const webhookEntries = (body: { history: { source: string }[] }) => body.history.filter((h) => h.source === 'webhook').length;
  const done = await eventually(
    () => stack.request('GET', `/v1/verifications/${id}`),
    (r) => r.body.status === 'approved' && webhookEntries(r.body) === 2,
  );
  t.equal(done.body.status, 'approved');
  t.equal(done.body.providerStatus, 'approved');
  t.match(done.body.result, { decision: 'approved', document: { type: 'national_id', number: /.+/, lastName: /.+/ } });
  const sources = done.body.history.map((h: { source: string }) => h.source);
  t.equal(sources[0], 'api', 'history starts with the session creation');
  t.equal(webhookEntries(done.body), 2, 'both webhooks recorded');
  t.match(done.body.history.at(-1), { to: 'approved' });

  // The row is written by a local activity inside the workflow task; the upsert commits when that
  // task completes, and visibility follows: wait for it rather than race it.
  const handle = stack.temporal.client.workflow.getHandle(`verification-${id}`);
  const description = await eventually(
    () => handle.describe(),
    (d) => d.searchAttributes.VerificationStatus?.[0] === 'approved',
  );
  t.equal(description.searchAttributes.VerificationStatus?.[0], 'approved', 'status search attribute upserted');
});

t.test('persona: a webhook with a bad signature is 401 and stores nothing; a repeat is a duplicate', async (t) => {
  const stack = await startStack(t, { worker: false });
  const body = JSON.stringify({
    data: {
      type: 'event',
      id: 'evt_forged',
      attributes: {
        name: 'inquiry.approved',
        'created-at': new Date().toISOString(),
        payload: { data: { type: 'inquiry', id: 'inq_x', attributes: { status: 'approved' } } },
      },
    },
  });
  const forged = await stack.app.inject({
    method: 'POST',
    url: '/webhooks/persona',
    headers: { 'content-type': 'application/json', 'persona-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
    payload: body,
  });
  t.equal(forged.statusCode, 401);
  t.equal(forged.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.match(forged.json(), { status: 401, code: 'invalid_signature' });
  const rows = await stack.database.db.query.webhookEvents.findMany();
  t.equal(rows.length, 0, 'nothing stored');
});
