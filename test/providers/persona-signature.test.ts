import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { WebhookSignatureError } from '../../providers/errors.ts';
import { verifyPersonaSignature } from '../../providers/persona/signature.ts';

// Signatures are computed here independently of the code under test.
function sign(secret: string, timestamp: number, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

const secret = 'wbhsec_test_3b6f0c1d9e';
const body = Buffer.from('{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.approved"}}}');
const now = new Date('2025-03-14T10:05:12Z');
const nowSeconds = Math.floor(now.getTime() / 1000);
const header = (timestamp: number, signature: string) => `t=${timestamp},v1=${signature}`;

// The subtest type, taken from tap's own signature (the last `t.test` overload takes only a callback).
type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

function rejects(tt: TestContext, input: Parameters<typeof verifyPersonaSignature>[0], pattern: RegExp, name: string) {
  tt.throws(() => verifyPersonaSignature(input), pattern, name);
  try {
    verifyPersonaSignature(input);
  } catch (error) {
    tt.ok(error instanceof WebhookSignatureError, `${name}: typed error`);
    tt.equal((error as WebhookSignatureError).code, 'VF_WEBHOOK_SIGNATURE', `${name}: code`);
    const message = (error as Error).message;
    tt.notOk(message.includes(secret), `${name}: message hides the secret`);
    tt.notOk(message.includes('evt_1'), `${name}: message hides the body`);
  }
}

t.test('accepts a valid signature', async (tt) => {
  tt.doesNotThrow(() => verifyPersonaSignature({ rawBody: body, header: header(nowSeconds, sign(secret, nowSeconds, body)), secret, now }));
});

t.test('rejects a wrong secret and a tampered body', async (tt) => {
  rejects(
    tt,
    { rawBody: body, header: header(nowSeconds, sign('other', nowSeconds, body)), secret, now },
    /does not match/,
    'wrong secret',
  );
  const tampered = Buffer.from(body.toString().replace('approved', 'declined'));
  rejects(
    tt,
    { rawBody: tampered, header: header(nowSeconds, sign(secret, nowSeconds, body)), secret, now },
    /does not match/,
    'tampered body',
  );
});

t.test('enforces the 300 s tolerance both ways', async (tt) => {
  const at = (offset: number) => ({
    rawBody: body,
    header: header(nowSeconds + offset, sign(secret, nowSeconds + offset, body)),
    secret,
    now,
  });
  tt.doesNotThrow(() => verifyPersonaSignature(at(-300)), '300 s old is accepted');
  tt.doesNotThrow(() => verifyPersonaSignature(at(300)), '300 s ahead is accepted');
  rejects(tt, at(-301), /301 s old/, '301 s old');
  rejects(tt, at(301), /301 s in the future/, '301 s in the future');
  tt.doesNotThrow(() => verifyPersonaSignature({ ...at(-3600), toleranceSeconds: 3600 }), 'tolerance is configurable');
});

t.test("accepts Persona's rotation header when only the second set matches", async (tt) => {
  const rotation = `${header(nowSeconds, sign('old-secret', nowSeconds, body))} ${header(nowSeconds, sign(secret, nowSeconds, body))}`;
  tt.doesNotThrow(() => verifyPersonaSignature({ rawBody: body, header: rotation, secret, now }));
  const bothWrong = `${header(nowSeconds, sign('a', nowSeconds, body))} ${header(nowSeconds, sign('b', nowSeconds, body))}`;
  rejects(tt, { rawBody: body, header: bothWrong, secret, now }, /does not match/, 'no set matches');
});

t.test('accepts any of our own secrets while we rotate', async (tt) => {
  const signed = header(nowSeconds, sign('new-secret', nowSeconds, body));
  tt.doesNotThrow(() => verifyPersonaSignature({ rawBody: body, header: signed, secret: ['old-secret', 'new-secret'], now }));
  rejects(tt, { rawBody: body, header: signed, secret: ['old-secret'], now }, /does not match/, 'retired secret');
  rejects(tt, { rawBody: body, header: signed, secret: [], now }, /No Persona webhook secret/, 'no secret configured');
});

t.test('rejects missing and malformed headers, saying which', async (tt) => {
  const valid = sign(secret, nowSeconds, body);
  const cases: [string, string | undefined, RegExp][] = [
    ['missing', undefined, /missing/],
    ['empty', '', /empty/],
    ['blank', '   ', /empty/],
    ['no t', `v1=${valid}`, /no t/],
    ['no v1', `t=${nowSeconds}`, /no v1/],
    ['non-hex v1', `t=${nowSeconds},v1=${'z'.repeat(64)}`, /v1 is not hex/],
    ['odd-length v1', `t=${nowSeconds},v1=abc`, /v1 is not hex/],
    ['non-numeric t', `t=yesterday,v1=${valid}`, /t is not a unix timestamp/],
    ['garbage', 'garbage', /malformed/],
    ['empty key', `=1,t=${nowSeconds},v1=${valid}`, /malformed/],
    ['bad second set', `t=${nowSeconds},v1=${valid} t=${nowSeconds}`, /no v1 \(set 2\)/],
  ];
  for (const [name, value, pattern] of cases) rejects(tt, { rawBody: body, header: value, secret, now }, pattern, name);
});

t.test('a short or long v1 is a mismatch, not a crash', async (tt) => {
  const valid = sign(secret, nowSeconds, body);
  rejects(tt, { rawBody: body, header: header(nowSeconds, valid.slice(0, 62)), secret, now }, /does not match/, 'short');
  rejects(tt, { rawBody: body, header: header(nowSeconds, `${valid}00`), secret, now }, /does not match/, 'long');
});

t.test('signs the raw bytes: an empty body and upper-case hex verify', async (tt) => {
  const empty = Buffer.alloc(0);
  tt.doesNotThrow(() =>
    verifyPersonaSignature({ rawBody: empty, header: header(nowSeconds, sign(secret, nowSeconds, empty)), secret, now }),
  );
  tt.doesNotThrow(() =>
    verifyPersonaSignature({
      rawBody: body,
      header: header(nowSeconds, sign(secret, nowSeconds, body).toUpperCase()),
      secret,
      now,
    }),
  );
  const latin1 = Buffer.from([0x7b, 0xe9, 0xff, 0x7d]);
  tt.doesNotThrow(
    () => verifyPersonaSignature({ rawBody: latin1, header: header(nowSeconds, sign(secret, nowSeconds, latin1)), secret, now }),
    'bytes that are not UTF-8',
  );
});

t.test('property: signed within tolerance verifies; any one-byte change fails', async (tt) => {
  const secretArb = fc.string({ minLength: 1, maxLength: 64 });
  const bodyArb = fc.uint8Array({ minLength: 1, maxLength: 512 });
  const skewArb = fc.integer({ min: -300, max: 300 });

  fc.assert(
    fc.property(secretArb, bodyArb, skewArb, (propSecret, bytes, skew) => {
      const rawBody = Buffer.from(bytes);
      const signedAt = nowSeconds + skew;
      verifyPersonaSignature({ rawBody, header: header(signedAt, sign(propSecret, signedAt, rawBody)), secret: propSecret, now });
    }),
  );

  fc.assert(
    fc.property(secretArb, bodyArb, skewArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (propSecret, bytes, skew, position, delta) => {
      const rawBody = Buffer.from(bytes);
      const signedAt = nowSeconds + skew;
      const signature = header(signedAt, sign(propSecret, signedAt, rawBody));
      const changed = Buffer.from(rawBody);
      const index = position % changed.length;
      changed[index] = ((changed[index] ?? 0) + delta) % 256;
      try {
        verifyPersonaSignature({ rawBody: changed, header: signature, secret: propSecret, now });
        return false;
      } catch (error) {
        return error instanceof WebhookSignatureError;
      }
    }),
  );
  tt.pass('properties hold');
});
