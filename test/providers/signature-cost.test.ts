// Unauthenticated webhook requests must cost a bounded number of HMACs, whatever the signature
// header carries: a handful of signature sets are considered, and one HMAC is computed per
// distinct timestamp per secret. Counted, not timed (bench/signature-cost.ts times them).
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { Signature } from 'smile-identity-core';
import t from 'tap';
import { WebhookSignatureError } from '../../providers/errors.ts';
import { verifyIdmetaSignature } from '../../providers/idmeta/signature.ts';
import { verifyPersonaSignature } from '../../providers/persona/signature.ts';
import { verifySmileIdCallback } from '../../providers/smileid/webhook.ts';
import { verifyStripeSignature } from '../../providers/stripe/signature.ts';
import { countHmacs } from '../helpers/hmac-counter.ts';

const now = new Date('2025-03-14T10:05:12Z');
const nowSeconds = Math.floor(now.getTime() / 1000);
const MiB = 1024 * 1024;
// A 1 MiB JSON body (the API's body limit).
const body = Buffer.from(JSON.stringify({ id: 'evt_big', pad: 'x'.repeat(MiB - 40) }).slice(0, MiB - 2) + '"}');
const forged = 'ab'.repeat(32);
const secrets = ['secret_one', 'secret_two'];
const personaSign = (secret: string, timestamp: number) => createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');

t.test('Persona: 800 forged sets over 1 MiB are refused before any HMAC', async (t) => {
  // Every set timely and with its own timestamp: before the bound, one HMAC per set per secret.
  const header = Array.from({ length: 800 }, (_, i) => `t=${nowSeconds - (i % 300)},v1=${forged}`).join(' ');
  const { hmacs, error } = countHmacs(() => verifyPersonaSignature({ rawBody: body, header, secret: secrets, now }));
  t.ok(error instanceof WebhookSignatureError, 'refused as a bad signature (401)');
  t.match((error as Error).message, /800 signature sets; at most 8/);
  t.equal(hmacs, 0, `HMACs computed: ${hmacs}`);
});

t.test('Persona: one HMAC per distinct timestamp per secret', async (t) => {
  const sameTime = Array.from({ length: 8 }, () => `t=${nowSeconds},v1=${forged}`).join(' ');
  const forgedSame = countHmacs(() => verifyPersonaSignature({ rawBody: body, header: sameTime, secret: secrets, now }));
  t.ok(forgedSame.error instanceof WebhookSignatureError);
  t.equal(forgedSame.hmacs, 2, `8 sets, one timestamp, two secrets: 2 HMACs (${forgedSame.hmacs})`);

  const twoTimes = [
    ...Array.from({ length: 7 }, (_, i) => `t=${nowSeconds - (i % 2)},v1=${forged}`),
    `t=${nowSeconds - 1},v1=${personaSign('secret_two', nowSeconds - 1)}`,
  ].join(' ');
  const valid = countHmacs(() => verifyPersonaSignature({ rawBody: body, header: twoTimes, secret: secrets, now }));
  t.equal(valid.error, null, 'the valid set among forged ones is found');
  t.ok(valid.hmacs <= 4, `two timestamps, two secrets: at most 4 HMACs (${valid.hmacs})`);

  const threeTimes = [0, 1, 2].map((i) => `t=${nowSeconds - i},v1=${forged}`).join(' ');
  const spread = countHmacs(() => verifyPersonaSignature({ rawBody: body, header: threeTimes, secret: secrets, now }));
  t.match((spread.error as Error).message, /3 different timestamps; at most 2/);
  t.equal(spread.hmacs, 0, `HMACs computed: ${spread.hmacs}`);
});

t.test('Stripe: the header is bounded before the package sees it; one HMAC per secret', async (t) => {
  const header = `t=${nowSeconds},${Array.from({ length: 800 }, () => `v1=${forged}`).join(',')}`;
  const many = countHmacs(() => verifyStripeSignature({ rawBody: body, header, secret: secrets, now }));
  t.ok(many.error instanceof WebhookSignatureError);
  t.match((many.error as Error).message, /800 signatures; at most 8/);
  t.equal(many.hmacs, 0, `HMACs computed: ${many.hmacs}`);

  const eight = `t=${nowSeconds},${Array.from({ length: 8 }, () => `v1=${forged}`).join(',')}`;
  const bounded = countHmacs(() => verifyStripeSignature({ rawBody: body, header: eight, secret: secrets, now }));
  t.ok(bounded.error instanceof WebhookSignatureError);
  t.equal(bounded.hmacs, 2, 'one per configured secret');
  const valid = Stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: 'secret_two', timestamp: nowSeconds });
  t.equal(countHmacs(() => verifyStripeSignature({ rawBody: body, header: valid, secret: secrets, now })).error, null);
});

t.test('IDmeta and SmileID: one HMAC per secret, whatever is sent (already bounded on main)', async (t) => {
  const idmeta = countHmacs(() => verifyIdmetaSignature({ rawBody: body, header: `sha256=${forged}`, secret: secrets }));
  t.ok(idmeta.error instanceof WebhookSignatureError);
  t.equal(idmeta.hmacs, 2, 'IDmeta: one per secret');
  const oversized = countHmacs(() => verifyIdmetaSignature({ rawBody: body, header: `${forged} `.repeat(800), secret: secrets }));
  t.equal(oversized.hmacs, 0, 'IDmeta: a header that is not one hex HMAC costs nothing');

  const timestamp = now.toISOString();
  const signature = new Signature('0421', 'wrong_key').generate_signature(timestamp).signature;
  const callback = Buffer.from(JSON.stringify({ timestamp, signature, pad: 'x'.repeat(MiB - 200) }));
  const smileid = countHmacs(() => verifySmileIdCallback({ rawBody: callback, partnerId: '0421', apiKey: 'smileid_key', now }));
  t.ok(smileid.error instanceof WebhookSignatureError);
  t.equal(smileid.hmacs, 1, 'SmileID signs the timestamp, not the body: one small HMAC');
});
