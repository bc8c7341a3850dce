// Payload encryption for everything veriflow sends to Temporal: workflow inputs, signals, updates,
// activity inputs and results, query answers, and (through the failure converter) error messages
// and stack traces. Temporal stores only ciphertext; the worker, the API and the codec endpoint
// (for the Web UI) hold the keys.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { payloadKeyRing, type Env, type PayloadKey } from '../config/env.ts';
import { sourceOrCompiled } from './module-path.ts';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const PayloadMessage = proto.temporal.api.common.v1.Payload;

export class PayloadDecryptionError extends ValueError {
  readonly code: 'VF_PAYLOAD_KEY_UNKNOWN' | 'VF_PAYLOAD_UNDECRYPTABLE' | 'VF_PAYLOAD_NOT_ENCRYPTED';
  constructor(code: PayloadDecryptionError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * AES-256-GCM over the whole inner payload (metadata included, so even the encoding of a value is
 * hidden). Wire format of `data`: 12-byte IV | ciphertext | 16-byte tag; the key id travels in
 * metadata and is bound as additional authenticated data, so it cannot be swapped.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly current: PayloadKey;
  private readonly requireEncryption: boolean;

  /**
   * `ring[0]` encrypts; every key in the ring decrypts. `requireEncryption` (production) refuses
   * plaintext payloads on decode: only holders of a key can then signal, update or start a workflow.
   */
  constructor(ring: readonly PayloadKey[], { requireEncryption = false }: { requireEncryption?: boolean } = {}) {
    this.requireEncryption = requireEncryption;
    const [current] = ring;
    if (!current) throw new ValueError('The payload key ring is empty');
    for (const { id, key } of ring) if (key.length !== 32) throw new ValueError(`Payload key '${id}' is not 32 bytes`);
    this.current = current;
    this.keys = new Map(ring.map(({ id, key }) => [id, key]));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      cipher.setAAD(Buffer.from(this.current.id, 'utf8'));
      const plain = PayloadMessage.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING, 'utf8'),
          [METADATA_KEY_ID]: Buffer.from(this.current.id, 'utf8'),
        },
        data,
      };
    });
  }

  /**
   * Outside production, payloads that are not encrypted (written before encryption was on) pass
   * through unchanged. In production they are refused: anyone who reaches the Temporal frontend
   * could otherwise send `review: approved` past the API. The workflow task fails and retries.
   */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || Buffer.from(encoding).toString('utf8') !== ENCRYPTED_ENCODING) {
        if (!this.requireEncryption) return payload;
        throw new PayloadDecryptionError(
          'VF_PAYLOAD_NOT_ENCRYPTED',
          'Refused an unencrypted payload: in production every payload must be encrypted with a key of PAYLOAD_ENCRYPTION_KEYS (send it through the veriflow API or a client using getDataConverter())',
        );
      }
      const keyIdBytes = payload.metadata?.[METADATA_KEY_ID];
      const keyId = keyIdBytes ? Buffer.from(keyIdBytes).toString('utf8') : '';
      const key = this.keys.get(keyId);
      if (!key) {
        throw new PayloadDecryptionError(
          'VF_PAYLOAD_KEY_UNKNOWN',
          `Payload was encrypted with key '${keyId || '(none)'}', which is not in PAYLOAD_ENCRYPTION_KEYS (known: ${[...this.keys.keys()].join(', ')}); add that key back to the ring to read it`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptionError('VF_PAYLOAD_UNDECRYPTABLE', `Encrypted payload (key '${keyId}') is truncated`);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(keyId, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(
          'VF_PAYLOAD_UNDECRYPTABLE',
          `Payload could not be decrypted with key '${keyId}': wrong key material for that id, or the data was altered`,
        );
      }
      return PayloadMessage.decode(plain);
    });
  }
}

/** Run from source the sources are .ts; compiled, they are .js beside this file. */
export function failureConverterPath(): string {
  return sourceOrCompiled(new URL('./failure-converter.ts', import.meta.url));
}

type KeyEnv = Pick<Env, 'NODE_ENV' | 'PAYLOAD_ENCRYPTION_KEYS'>;

const keyConfigurationOf = (env: KeyEnv) => `${env.NODE_ENV}\u0000${env.PAYLOAD_ENCRYPTION_KEYS ?? ''}`;

const converters = new Map<string, DataConverter & { payloadCodecs: [EncryptionCodec] }>();

/**
 * The one data converter of this process, shared by the worker (`Worker.create`), every client
 * (API, scripts, tests) and the codec endpoint: the encrypting codec and the failure converter
 * that routes error messages through it. Memoised per key configuration.
 */
export function getDataConverter(env: KeyEnv): DataConverter & { payloadCodecs: [EncryptionCodec] } {
  const cacheKey = keyConfigurationOf(env);
  let converter = converters.get(cacheKey);
  if (!converter) {
    converter = {
      payloadCodecs: [new EncryptionCodec(payloadKeyRing(env), { requireEncryption: env.NODE_ENV === 'production' })],
      failureConverterPath: failureConverterPath(),
    };
    converters.set(cacheKey, converter);
  }
  return converter;
}

const displayCodecs = new Map<string, EncryptionCodec>();

/**
 * The codec endpoint's encode/decode: the data converter's keys, but plaintext payloads are shown
 * as stored (SDK bookkeeping such as local activity markers is never encrypted). Refusing them is
 * the worker's job; the UI only displays.
 */
export function getPayloadCodec(env: KeyEnv): EncryptionCodec {
  const cacheKey = keyConfigurationOf(env);
  let codec = displayCodecs.get(cacheKey);
  if (!codec) {
    codec = new EncryptionCodec(payloadKeyRing(env));
    displayCodecs.set(cacheKey, codec);
  }
  return codec;
}

/** A payload as the codec server protocol sends it: proto3 JSON, bytes as base64. */
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

export function payloadFromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])) : {},
    data: data ? Buffer.from(data, 'base64') : new Uint8Array(),
  };
}

export function payloadToJson({ metadata, data }: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
  };
}
