import { Signature } from 'smile-identity-core';
import t from 'tap';
import { MalformedWebhookError, WebhookSignatureError } from '../../providers/errors.ts';
import { confirmSmileIdSignature, signSmileIdRequest, verifySmileIdSignature } from '../../providers/smileid/signature.ts';
import { verifySmileIdCallback } from '../../providers/smileid/webhook.ts';

const partnerId = '0421';
const apiKey = 'smileid_unit_test_api_key';
const now = new Date('2025-03-14T10:00:00.000Z');
const at = (offsetSeconds: number) => new Date(now.getTime() + offsetSeconds * 1000).toISOString();

/** Signed by the official SDK, exactly as SmileID's servers sign callbacks. */
function sdkSigned(timestamp: string, partner = partnerId, key = apiKey) {
  const { signature } = new Signature(partner, key).generate_signature(timestamp);
  return { timestamp, signature };
}

type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

function rejects(t: TestContext, input: Partial<Parameters<typeof verifySmileIdSignature>[0]>, message: RegExp, what: string) {
  t.throws(
    () => verifySmileIdSignature({ partnerId, apiKey, now, timestamp: undefined, signature: undefined, ...input }),
    WebhookSignatureError,
    what,
  );
  try {
    verifySmileIdSignature({ partnerId, apiKey, now, timestamp: undefined, signature: undefined, ...input });
  } catch (error) {
    t.match((error as Error).message, message, `${what}: message`);
    t.equal((error as WebhookSignatureError).code, 'VF_WEBHOOK_SIGNATURE');
  }
}

t.test('a signature made by smile-identity-core is accepted, within ±300 s either way', async (t) => {
  t.doesNotThrow(() => verifySmileIdSignature({ partnerId, apiKey, now, ...sdkSigned(at(0)) }));
  t.doesNotThrow(() => verifySmileIdSignature({ partnerId, apiKey, now, ...sdkSigned(at(-299)) }), '299 s old');
  t.doesNotThrow(() => verifySmileIdSignature({ partnerId, apiKey, now, ...sdkSigned(at(299)) }), '299 s ahead');
  t.doesNotThrow(
    () => verifySmileIdSignature({ partnerId, apiKey, now, ...sdkSigned('2025-03-14T10:00:00+00:00') }),
    'an offset form is signed as sent',
  );
  // Our own request signing is the SDK's too.
  const request = signSmileIdRequest(partnerId, apiKey, now);
  t.equal(request.timestamp, now.toISOString());
  t.ok(new Signature(partnerId, apiKey).confirm_signature(request.timestamp, request.signature), 'the SDK confirms what we sign');
});

t.test('wrong key, wrong partner and tampered signatures are rejected', async (t) => {
  rejects(t, sdkSigned(at(0), partnerId, 'another_api_key'), /does not match/, 'wrong API key');
  rejects(t, sdkSigned(at(0), '9999', apiKey), /does not match/, 'wrong partner id');
  const good = sdkSigned(at(0));
  const middle = good.signature.length >> 1;
  const flipped = good.signature.slice(0, middle) + (good.signature[middle] === 'A' ? 'B' : 'A') + good.signature.slice(middle + 1);
  rejects(t, { timestamp: good.timestamp, signature: flipped }, /does not match/, 'one character changed');
  rejects(t, { timestamp: at(1), signature: good.signature }, /does not match/, 'the signature of another timestamp');
  rejects(
    t,
    { timestamp: good.timestamp, signature: Buffer.from('x'.repeat(32)).toString('base64') },
    /does not match/,
    'a random 32-byte value',
  );
});

t.test('spellings the SDK would also accept for the same MAC are rejected: one signature, one string', async (t) => {
  const good = sdkSigned(at(0));
  const sdk = new Signature(partnerId, apiKey);
  const last = good.signature.at(-2)!; // 32 bytes = 43 characters + '=': the last one has 2 spare bits
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const spareBitsFlipped = good.signature.slice(0, -2) + alphabet[alphabet.indexOf(last) ^ 1] + '=';
  for (const [variant, what] of [
    [`${good.signature}!!`, 'trailing junk'],
    [good.signature.replace(/=+$/, ''), 'padding dropped'],
    [spareBitsFlipped, 'spare bits changed'],
  ] as const) {
    t.ok(sdk.confirm_signature(good.timestamp, variant), `the SDK accepts ${what}`);
    rejects(t, { timestamp: good.timestamp, signature: variant }, /not a base64 HMAC-SHA256/, what);
  }
});

t.test('missing or malformed fields are rejected', async (t) => {
  const good = sdkSigned(at(0));
  rejects(t, { signature: good.signature }, /no timestamp/, 'no timestamp');
  rejects(t, { timestamp: good.timestamp }, /no signature/, 'no signature');
  rejects(t, { timestamp: '', signature: good.signature }, /no timestamp/, 'empty timestamp');
  rejects(t, { timestamp: good.timestamp, signature: '' }, /no signature/, 'empty signature');
  rejects(t, { timestamp: now.getTime(), signature: good.signature }, /not an ISO 8601/, 'a unix time instead of ISO text');
  rejects(t, { timestamp: 'yesterday', signature: good.signature }, /not an ISO 8601/, 'not a date');
  rejects(
    t,
    { timestamp: '2025-02-30T10:00:00.000Z', signature: good.signature },
    /does not match|not an ISO|old|future/,
    'an impossible date',
  );
  rejects(t, { timestamp: good.timestamp, signature: 12345 }, /not a base64/, 'a number as signature');
  rejects(t, { timestamp: good.timestamp, signature: 'not base64 at all' }, /not a base64/, 'not base64');
  t.throws(() => verifySmileIdSignature({ partnerId: '', apiKey, now, ...good }), /No SmileID partner id or API key/);
  t.throws(() => verifySmileIdSignature({ partnerId, apiKey: '', now, ...good }), /No SmileID partner id or API key/);
});

t.test('timestamps too old or too far in the future are rejected before the HMAC', async (t) => {
  rejects(t, sdkSigned(at(-301)), /301 s old; tolerance is 300 s/, '301 s old');
  rejects(t, sdkSigned(at(301)), /301 s in the future/, '301 s ahead');
  rejects(t, sdkSigned('2020-01-01T00:00:00.000Z'), /old/, 'years old');
  // Even with the wrong key the message is about time: a replay learns nothing about the MAC.
  rejects(t, sdkSigned(at(-3600), partnerId, 'wrong'), /old/, 'old and wrong');
  t.doesNotThrow(
    () => verifySmileIdSignature({ partnerId, apiKey, now, toleranceSeconds: 4000, ...sdkSigned(at(-3600)) }),
    'tolerance is configurable',
  );
});

t.test('confirmSmileIdSignature: the SDK check without a time limit, never throwing', async (t) => {
  const old = sdkSigned('2020-01-01T00:00:00.000Z');
  t.equal(confirmSmileIdSignature(partnerId, apiKey, old.timestamp, old.signature), true);
  t.equal(confirmSmileIdSignature(partnerId, 'other', old.timestamp, old.signature), false);
  t.equal(confirmSmileIdSignature(partnerId, apiKey, 'not a date', old.signature), false, 'the SDK would throw a RangeError here');
  t.equal(confirmSmileIdSignature(partnerId, apiKey, undefined, undefined), false);
});

t.test('verifySmileIdCallback reads timestamp and signature from the JSON body', async (t) => {
  const body = JSON.stringify({ ResultCode: '1012', PartnerParams: { job_id: 'x' }, ...sdkSigned(at(-5)) });
  t.doesNotThrow(() => verifySmileIdCallback({ rawBody: Buffer.from(body), partnerId, apiKey, now }));
  t.throws(() => verifySmileIdCallback({ rawBody: Buffer.from(body), partnerId, apiKey: 'wrong', now }), WebhookSignatureError);
  t.throws(
    () => verifySmileIdCallback({ rawBody: Buffer.from(JSON.stringify({ ResultCode: '1012' })), partnerId, apiKey, now }),
    /SmileID callback has no timestamp/,
  );
  t.throws(() => verifySmileIdCallback({ rawBody: Buffer.from('{not json'), partnerId, apiKey, now }), MalformedWebhookError);
  t.throws(() => verifySmileIdCallback({ rawBody: Buffer.from('[1,2]'), partnerId, apiKey, now }), MalformedWebhookError);
});
