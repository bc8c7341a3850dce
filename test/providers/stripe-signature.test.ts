import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import t from 'tap';
import { WebhookSignatureError } from '../../providers/errors.ts';
import { verifyStripeSignature, type VerifyStripeSignatureInput } from '../../providers/stripe/signature.ts';

// Headers come from the official package's test helper, never from the code under test.
const secret = 'whsec_test_5cb1f1e7a2d94b0c';
const body = Buffer.from(
  JSON.stringify({
    id: 'evt_1Test',
    object: 'event',
    type: 'account.updated',
    created: 1741946712,
    data: { object: { id: 'acct_1Test', object: 'account' } },
  }),
);
const now = new Date('2025-03-14T10:05:12Z');
const nowSeconds = Math.floor(now.getTime() / 1000);
const signed = (timestamp: number, signingSecret = secret, payload: Buffer | string = body) =>
  Stripe.webhooks.generateTestHeaderString({ payload: payload.toString(), secret: signingSecret, timestamp });

type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

function rejects(tt: TestContext, input: VerifyStripeSignatureInput, pattern: RegExp, name: string) {
  try {
    verifyStripeSignature(input);
    tt.fail(`${name}: accepted`);
  } catch (error) {
    tt.ok(error instanceof WebhookSignatureError, `${name}: WebhookSignatureError`);
    tt.equal((error as WebhookSignatureError).code, 'VF_WEBHOOK_SIGNATURE', `${name}: code`);
    const message = (error as Error).message;
    tt.match(message, pattern, `${name}: says why`);
    tt.notOk(message.includes(secret), `${name}: message hides the secret`);
    tt.notOk(message.includes('acct_1Test'), `${name}: message hides the body`);
    tt.notOk(message.includes('\n'), `${name}: one line, not the package's essay`);
  }
}

t.test('accepts a header made by stripe.webhooks.generateTestHeaderString', async (tt) => {
  tt.doesNotThrow(() => verifyStripeSignature({ rawBody: body, header: signed(nowSeconds), secret, now }));
  tt.doesNotThrow(
    () => verifyStripeSignature({ rawBody: body.toString('utf8'), header: signed(nowSeconds), secret, now }),
    'string bodies too',
  );
  // Stripe may send several v1 signatures (its own rotation): any one matching is enough.
  const valid = signed(nowSeconds).split('v1=')[1]!;
  tt.doesNotThrow(() =>
    verifyStripeSignature({ rawBody: body, header: `t=${nowSeconds},v1=${'0'.repeat(64)},v1=${valid},v0=ignored`, secret, now }),
  );
});

t.test('rejects a wrong secret and a tampered body', async (tt) => {
  rejects(tt, { rawBody: body, header: signed(nowSeconds, 'whsec_other'), secret, now }, /does not match the body/, 'wrong secret');
  const tampered = Buffer.from(body.toString().replace('acct_1Test', 'acct_1Evil'));
  rejects(tt, { rawBody: tampered, header: signed(nowSeconds), secret, now }, /does not match the body/, 'tampered body');
  const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2));
  rejects(tt, { rawBody: reserialized, header: signed(nowSeconds), secret, now }, /does not match/, 're-serialized JSON');
});

t.test('rejects missing, empty and malformed headers', async (tt) => {
  const valid = signed(nowSeconds).split('v1=')[1]!;
  const cases: [string, string | null | undefined, RegExp][] = [
    ['missing (undefined)', undefined, /missing/],
    ['missing (null)', null, /missing/],
    ['empty', '', /missing/],
    ['blank', '   ', /missing/],
    ['garbage', 'garbage', /malformed/],
    ['no t', `v1=${valid}`, /malformed/],
    ['non-numeric t', `t=yesterday,v1=${valid}`, /malformed/],
    ['two t', `t=${nowSeconds},v1=${valid},t=${nowSeconds - 1000}`, /exactly one t/],
    ['spaces around items', `t=${nowSeconds}, v1=${valid}`, /no v1/],
    ['no v1', `t=${nowSeconds}`, /no v1/],
    ['only v0', `t=${nowSeconds},v0=${valid}`, /no v1/],
    ['non-hex v1', `t=${nowSeconds},v1=${'z'.repeat(64)}`, /does not match/],
    ['short v1', `t=${nowSeconds},v1=${valid.slice(0, 10)}`, /does not match/],
  ];
  for (const [name, header, pattern] of cases) rejects(tt, { rawBody: body, header, secret, now }, pattern, name);
});

t.test('enforces the 300 s tolerance both ways (the package checks only the past)', async (tt) => {
  const at = (offset: number): VerifyStripeSignatureInput => ({ rawBody: body, header: signed(nowSeconds + offset), secret, now });
  tt.doesNotThrow(() => verifyStripeSignature(at(-300)), '300 s old is accepted');
  tt.doesNotThrow(() => verifyStripeSignature(at(300)), '300 s ahead is accepted');
  rejects(tt, at(-301), /301 s old; tolerance is 300 s/, '301 s old');
  rejects(tt, at(301), /301 s in the future; tolerance is 300 s/, '301 s in the future');
  rejects(tt, at(86_400 * 365), /in the future/, 'a year ahead');
  tt.doesNotThrow(() => verifyStripeSignature({ ...at(-3600), toleranceSeconds: 3600 }), 'tolerance is configurable');

  // The package alone accepts a far-future timestamp: that gap is why the check is ours.
  tt.doesNotThrow(() => Stripe.webhooks.constructEvent(body, signed(nowSeconds + 86_400), secret, 300, undefined, now.getTime()));
});

t.test('accepts any of our secrets while we roll the endpoint secret', async (tt) => {
  const header = signed(nowSeconds, 'whsec_new');
  tt.doesNotThrow(() => verifyStripeSignature({ rawBody: body, header, secret: ['whsec_old', 'whsec_new'], now }), 'second secret matches');
  tt.doesNotThrow(() => verifyStripeSignature({ rawBody: body, header, secret: ['whsec_new', 'whsec_old'], now }), 'first secret matches');
  rejects(tt, { rawBody: body, header, secret: ['whsec_old'], now }, /does not match/, 'retired secret');
  rejects(tt, { rawBody: body, header, secret: [], now }, /No Stripe webhook secret/, 'no secret configured');
  rejects(tt, { rawBody: body, header, secret: ['', '  '], now }, /No Stripe webhook secret/, 'blank secrets only');
});

t.test('rejects an empty body, even one whose empty payload was signed', async (tt) => {
  const empty = Buffer.alloc(0);
  rejects(tt, { rawBody: empty, header: signed(nowSeconds), secret, now }, /body is empty/, 'empty buffer');
  rejects(tt, { rawBody: '', header: signed(nowSeconds), secret, now }, /body is empty/, 'empty string');
  const emptySigned = `t=${nowSeconds},v1=${createHmac('sha256', secret).update(`${nowSeconds}.`).digest('hex')}`;
  rejects(tt, { rawBody: empty, header: emptySigned, secret, now }, /body is empty/, 'signed empty body');
});

t.test('a correctly signed body that is not JSON passes the signature (the parser calls it malformed)', async (tt) => {
  const notJson = Buffer.from('not json at all');
  tt.doesNotThrow(() => verifyStripeSignature({ rawBody: notJson, header: signed(nowSeconds, secret, notJson), secret, now }));
  rejects(tt, { rawBody: notJson, header: signed(nowSeconds, 'whsec_other', notJson), secret, now }, /does not match/, 'forged non-JSON');
});

t.test('the secret is used as given, not base64-decoded', async (tt) => {
  const manual = `t=${nowSeconds},v1=${createHmac('sha256', secret).update(`${nowSeconds}.`).update(body).digest('hex')}`;
  tt.doesNotThrow(() => verifyStripeSignature({ rawBody: body, header: manual, secret, now }));
});
