// The payload codec on its own: AES-256-GCM with the key id in metadata, key rotation, loud
// failures, the key ring from the environment, and failure messages routed through the codec.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, METADATA_ENCODING_KEY, defaultPayloadConverter, type Payload } from '@temporalio/common';
import t from 'tap';
import { InvalidConfigError, parseEnv, payloadKeyRing } from '../../config/env.ts';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  METADATA_KEY_ID,
  PayloadDecryptionError,
  getDataConverter,
  getPayloadCodec,
  payloadFromJson,
  payloadToJson,
} from '../../wiring/codec.ts';
import { failureConverter } from '../../wiring/failure-converter.ts';

const SECRET = 'Zq7codecAnna Canaryson, passport ZQ7-000111';
const v1 = { id: 'v1', key: randomBytes(32) };
const v2 = { id: 'v2', key: randomBytes(32) };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const plain = (): Payload => defaultPayloadConverter.toPayload({ applicant: { name: SECRET } });

t.test('encode: ciphertext only, encoding binary/encrypted, the key id in metadata; decode restores the payload', async (t) => {
  const codec = new EncryptionCodec([v1]);
  const [encrypted] = await codec.encode([plain()]);
  t.equal(text(encrypted!.metadata![METADATA_ENCODING_KEY]), ENCRYPTED_ENCODING);
  t.equal(text(encrypted!.metadata![METADATA_KEY_ID]), 'v1');
  t.same(
    Object.keys(encrypted!.metadata!).sort(),
    [METADATA_ENCODING_KEY, METADATA_KEY_ID].sort(),
    'the inner encoding (json/plain) is hidden too',
  );
  t.notOk(Buffer.from(encrypted!.data!).includes(Buffer.from('Zq7codec')), 'no plaintext in the data');
  const [again] = await codec.encode([plain()]);
  t.not(Buffer.from(again!.data!).toString('hex'), Buffer.from(encrypted!.data!).toString('hex'), 'a fresh IV per payload');
  const [decoded] = await codec.decode([encrypted!]);
  t.same(defaultPayloadConverter.fromPayload(decoded!), { applicant: { name: SECRET } });
});

t.test('unencrypted payloads (written before encryption was on) pass through decode outside production', async (t) => {
  const codec = new EncryptionCodec([v1]);
  const [decoded] = await codec.decode([plain()]);
  t.same(defaultPayloadConverter.fromPayload(decoded!), { applicant: { name: SECRET } });
  const development = getDataConverter({ NODE_ENV: 'development', PAYLOAD_ENCRYPTION_KEYS: `v1:${v1.key.toString('base64')}` })
    .payloadCodecs[0];
  t.same(defaultPayloadConverter.fromPayload((await development.decode([plain()]))[0]!), { applicant: { name: SECRET } });
});

t.test('production refuses unencrypted payloads on decode, and still reads encrypted ones', async (t) => {
  const production = getDataConverter({ NODE_ENV: 'production', PAYLOAD_ENCRYPTION_KEYS: `v1:${v1.key.toString('base64')}` })
    .payloadCodecs[0];
  await t.rejects(production.decode([plain()]), { name: 'ValueError', code: 'VF_PAYLOAD_NOT_ENCRYPTED', message: /unencrypted payload/ });
  const [decoded] = await production.decode(await production.encode([plain()]));
  t.same(defaultPayloadConverter.fromPayload(decoded!), { applicant: { name: SECRET } });
  // The codec endpoint only displays: SDK bookkeeping stored in plaintext still shows in the UI.
  const display = getPayloadCodec({ NODE_ENV: 'production', PAYLOAD_ENCRYPTION_KEYS: `v1:${v1.key.toString('base64')}` });
  t.same(defaultPayloadConverter.fromPayload((await display.decode([plain()]))[0]!), { applicant: { name: SECRET } });
  t.same(defaultPayloadConverter.fromPayload((await display.decode(await production.encode([plain()])))[0]!), {
    applicant: { name: SECRET },
  });
});

t.test('rotation: the first key encrypts, every key in the ring decrypts; a retired key fails loudly, naming it', async (t) => {
  const before = new EncryptionCodec([v1]);
  const rotated = new EncryptionCodec([v2, v1]);
  const [old] = await before.encode([plain()]);
  const [fresh] = await rotated.encode([plain()]);
  t.equal(text(fresh!.metadata![METADATA_KEY_ID]), 'v2', 'new payloads use the new key');
  t.same(
    defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!),
    { applicant: { name: SECRET } },
    'old histories stay readable',
  );
  const err = await before.decode([fresh!]).catch((e: unknown) => e);
  t.type(err, PayloadDecryptionError);
  t.match(err, { code: 'VF_PAYLOAD_KEY_UNKNOWN', message: /key 'v2'.*not in PAYLOAD_ENCRYPTION_KEYS \(known: v1\)/ });
  const retired = new EncryptionCodec([v2]);
  await t.rejects(
    retired.decode([old!]),
    { code: 'VF_PAYLOAD_KEY_UNKNOWN', message: /'v1'/ },
    'dropping a key too early is an error, not silent garbage',
  );
});

t.test('tampering: altered data, or the key id swapped in metadata, does not decrypt', async (t) => {
  const codec = new EncryptionCodec([v1, { id: 'v1-copy', key: v1.key }]);
  const [encrypted] = await codec.encode([plain()]);
  const flipped = Buffer.from(encrypted!.data!);
  flipped[20] = flipped[20]! ^ 1;
  await t.rejects(codec.decode([{ ...encrypted!, data: flipped }]), { code: 'VF_PAYLOAD_UNDECRYPTABLE' });
  const swapped = { ...encrypted!, metadata: { ...encrypted!.metadata, [METADATA_KEY_ID]: Buffer.from('v1-copy') } };
  await t.rejects(codec.decode([swapped]), { code: 'VF_PAYLOAD_UNDECRYPTABLE' }, 'the key id is authenticated (AAD)');
  await t.rejects(codec.decode([{ ...encrypted!, data: Buffer.alloc(8) }]), { code: 'VF_PAYLOAD_UNDECRYPTABLE', message: /truncated/ });
  t.throws(() => new EncryptionCodec([]), /empty/);
});

t.test('codec server JSON: base64 round trip', async (t) => {
  const payload = plain();
  const json = payloadToJson(payload);
  t.equal(json.metadata.encoding, Buffer.from('json/plain').toString('base64'));
  t.same(defaultPayloadConverter.fromPayload(payloadFromJson(json)), { applicant: { name: SECRET } });
  t.same(payloadFromJson({ metadata: null, data: null }), { metadata: {}, data: new Uint8Array() });
});

t.test('key ring from PAYLOAD_ENCRYPTION_KEYS', async (t) => {
  const keys = `v2:${v2.key.toString('base64')}, v1:${v1.key.toString('base64')}`;
  const ring = payloadKeyRing({ NODE_ENV: 'production', PAYLOAD_ENCRYPTION_KEYS: keys });
  t.same(
    ring.map((k) => k.id),
    ['v2', 'v1'],
    'order kept: the first encrypts',
  );
  t.ok(ring[0]!.key.equals(v2.key));
  t.same(
    payloadKeyRing({ NODE_ENV: 'development', PAYLOAD_ENCRYPTION_KEYS: keys }).map((k) => k.id),
    ['v2', 'v1', 'dev'],
    'dev histories stay readable outside production',
  );
  t.same(
    payloadKeyRing({ NODE_ENV: 'test', PAYLOAD_ENCRYPTION_KEYS: undefined }).map((k) => k.id),
    ['dev'],
    'a fixed dev key when unset',
  );

  const short = `v1:${randomBytes(16).toString('base64')}`;
  const err = (() => {
    try {
      parseEnv({ PAYLOAD_ENCRYPTION_KEYS: short });
    } catch (e) {
      return e as Error;
    }
    return null;
  })();
  t.type(err, InvalidConfigError);
  t.match(err?.message, /key 'v1' must be base64 of exactly 32 bytes/);
  t.notMatch(err?.message, short.slice(3, 15), 'the key material is never echoed');
  t.throws(
    () => parseEnv({ PAYLOAD_ENCRYPTION_KEYS: `a:${v1.key.toString('base64')},a:${v2.key.toString('base64')}` }),
    /'a' appears twice/,
  );
  t.throws(() => parseEnv({ PAYLOAD_ENCRYPTION_KEYS: 'no-colon-here' }), /PAYLOAD_ENCRYPTION_KEYS/);
  t.throws(() => parseEnv({ NODE_ENV: 'production' }), /PAYLOAD_ENCRYPTION_KEYS: required in production/);
  const production = parseEnv({
    NODE_ENV: 'production',
    PAYLOAD_ENCRYPTION_KEYS: keys,
    DATABASE_URL: 'postgres://db/veriflow',
    PUBLIC_BASE_URL: 'https://vf.example',
  });
  t.equal(production.PAYLOAD_ENCRYPTION_KEYS, keys);
});

t.test('getDataConverter: one per key configuration, the encrypting codec and the failure converter path', async (t) => {
  const env = { NODE_ENV: 'production' as const, PAYLOAD_ENCRYPTION_KEYS: `v1:${v1.key.toString('base64')}` };
  const converter = getDataConverter(env);
  t.equal(getDataConverter({ ...env }), converter, 'memoised');
  t.not(getDataConverter({ NODE_ENV: 'test', PAYLOAD_ENCRYPTION_KEYS: undefined }), converter);
  t.equal(converter.payloadCodecs[0].currentKeyId, 'v1');
  t.match(converter.failureConverterPath, /wiring\/failure-converter\.(ts|js)$/);
});

t.test('failures: message and stack move into an encoded payload, which the codec encrypts', async (t) => {
  const failure = failureConverter.errorToFailure(
    ApplicationFailure.create({ type: 'Example', message: `applicant ${SECRET} rejected` }),
    defaultPayloadConverter,
  );
  t.equal(failure.message, 'Encoded failure');
  t.equal(failure.stackTrace, '');
  t.ok(failure.encodedAttributes, 'message and stack travel as a payload');
  const [encrypted] = await new EncryptionCodec([v1]).encode([failure.encodedAttributes as Payload]);
  t.notOk(Buffer.from(encrypted!.data!).includes(Buffer.from('Zq7codec')));
  t.equal(failure.applicationFailureInfo?.type, 'Example', 'the type stays readable: callers branch on it');
});
