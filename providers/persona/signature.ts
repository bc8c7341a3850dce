import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookSignatureError } from '../errors.ts';
import { requireFewSignatures } from '../signature-limits.ts';

// Persona-Signature: `t=<unix>,v1=<hex>`; while a secret rotates Persona sends one such set per
// secret, space-separated. v1 = hex HMAC-SHA256(secret as given, `${t}.${rawBody}`).

export const PERSONA_SIGNATURE_HEADER = 'persona-signature';
const DEFAULT_TOLERANCE_SECONDS = 300;

export interface VerifyPersonaSignatureInput {
  /** The body exactly as received: re-serialized JSON would not match. */
  rawBody: Buffer | string;
  header: string | null | undefined;
  /** Several secrets while we rotate ours: any one of them may have signed. */
  secret: string | readonly string[];
  now?: Date;
  /** Persona documents no tolerance; we bound replay to 5 minutes both ways. */
  toleranceSeconds?: number;
}

interface SignatureSet {
  timestamp: number;
  signatures: Buffer[];
}

const UNIX_SECONDS = /^\d{1,12}$/;
// Persona signs every set of one delivery at one moment; two allow for a second boundary. Each
// distinct timestamp costs an HMAC of the whole body per secret, so a forged header with many
// would cost many.
const MAX_DISTINCT_TIMESTAMPS = 2;
const HEX = /^(?:[0-9a-f]{2})+$/i;

/** Throws WebhookSignatureError unless some set in the header is a valid, timely signature of the body. */
export function verifyPersonaSignature(input: VerifyPersonaSignatureInput): void {
  const secrets = (typeof input.secret === 'string' ? [input.secret] : [...input.secret]).filter((s) => s !== '');
  if (secrets.length === 0) throw new WebhookSignatureError('No Persona webhook secret is configured');

  const sets = parseSignatureHeader(input.header);
  const nowSeconds = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;

  // The timestamp is checked before the HMAC so that an old, replayed header never tells the
  // sender whether its signature was right.
  const timely = sets.filter((set) => Math.abs(nowSeconds - set.timestamp) <= tolerance);
  if (timely.length === 0) {
    const skew = nowSeconds - (sets[0]?.timestamp ?? nowSeconds);
    const direction = skew > 0 ? `${skew} s old` : `${-skew} s in the future`;
    throw new WebhookSignatureError(`Persona-Signature timestamp is ${direction}; tolerance is ${tolerance} s`);
  }

  // One HMAC per distinct timestamp per secret, however many sets share that timestamp.
  const matches = [...signaturesByTimestamp(timely)].some(([timestamp, signatures]) =>
    secrets.some((secret) => {
      const expected = hmac(secret, timestamp, input.rawBody);
      return signatures.some((given) => given.length === expected.length && timingSafeEqual(given, expected));
    }),
  );
  if (!matches) throw new WebhookSignatureError('Persona-Signature does not match the body for any configured secret');
}

function signaturesByTimestamp(sets: SignatureSet[]): Map<number, Buffer[]> {
  const byTimestamp = new Map<number, Buffer[]>();
  for (const set of sets) byTimestamp.set(set.timestamp, [...(byTimestamp.get(set.timestamp) ?? []), ...set.signatures]);
  return byTimestamp;
}

function hmac(secret: string, timestamp: number, rawBody: Buffer | string): Buffer {
  // Fed as bytes, so a body that is not valid UTF-8 is still signed exactly as sent.
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
}

function parseSignatureHeader(header: string | null | undefined): SignatureSet[] {
  if (header === null || header === undefined) throw new WebhookSignatureError('Persona-Signature header is missing');
  const rawSets = header
    .trim()
    .split(/\s+/)
    .filter((set) => set !== '');
  if (rawSets.length === 0) throw new WebhookSignatureError('Persona-Signature header is empty');
  requireFewSignatures('Persona-Signature', rawSets.length, 'signature sets');
  const sets = rawSets.map((rawSet, index) => parseSignatureSet(rawSet, rawSets.length > 1 ? ` (set ${index + 1})` : ''));
  const timestamps = new Set(sets.map((set) => set.timestamp)).size;
  if (timestamps > MAX_DISTINCT_TIMESTAMPS) {
    throw new WebhookSignatureError(
      `Persona-Signature carries ${timestamps} different timestamps; at most ${MAX_DISTINCT_TIMESTAMPS} are considered`,
    );
  }
  return sets;
}

function parseSignatureSet(rawSet: string, where: string): SignatureSet {
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const pair of rawSet.split(',')) {
    const separator = pair.indexOf('=');
    if (separator <= 0) throw new WebhookSignatureError(`Persona-Signature is malformed${where}: expected key=value pairs`);
    const key = pair.slice(0, separator);
    const value = pair.slice(separator + 1);
    if (key === 't') {
      if (!UNIX_SECONDS.test(value)) throw new WebhookSignatureError(`Persona-Signature t is not a unix timestamp${where}`);
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!HEX.test(value)) throw new WebhookSignatureError(`Persona-Signature v1 is not hex${where}`);
      signatures.push(Buffer.from(value, 'hex'));
    }
    // Other keys are skipped: a future scheme version must not break today's check.
  }
  if (timestamp === null) throw new WebhookSignatureError(`Persona-Signature has no t${where}`);
  if (signatures.length === 0) throw new WebhookSignatureError(`Persona-Signature has no v1${where}`);
  return { timestamp, signatures };
}
