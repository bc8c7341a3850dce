// Canary strings for privacy tests: personal data with a unique marker, planted where clients and
// providers put it, then searched for raw (any case) and base64-encoded in whatever a test holds:
// database rows, log lines, Temporal history bytes, decoded payloads.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Payload } from '@temporalio/common';
import { createLogger } from '../../wiring/logger.ts';

export interface Canary {
  mark: string;
  first: string;
  last: string;
  email: string;
  document: string;
  street: string;
}

export function newCanary(): Canary {
  const mark = `Zq7canary${randomBytes(5).toString('hex')}`;
  return {
    mark,
    first: `${mark}Anna`,
    last: `${mark}Lindqvist`,
    email: `${mark.toLowerCase()}.anna@example.com`,
    document: `${mark}DOC4711`,
    street: `${mark} Gatan 12`,
  };
}

/** The marker as it would appear raw (any case) or base64-encoded at any of the three alignments. */
function needles(mark: string): string[] {
  const raw = mark.toLowerCase();
  const base64 = [0, 1, 2].map((pad) =>
    Buffer.from('x'.repeat(pad) + mark)
      .toString('base64')
      .slice(Math.ceil((pad * 4) / 3) + 1, -2),
  );
  return [raw, ...base64];
}

export function countHits(mark: string, haystack: string | Buffer): number {
  const exact = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  const lower = exact.toLowerCase();
  let hits = 0;
  for (const [i, needle] of needles(mark).entries()) {
    const text = i === 0 ? lower : exact;
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) hits += 1;
  }
  return hits;
}

/** Every Payload ({ metadata, data }) anywhere in a decoded proto object, with where it was. */
export function payloadsIn(
  value: unknown,
  path = '',
  found: { path: string; payload: Payload }[] = [],
): { path: string; payload: Payload }[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  if (Array.isArray(value)) {
    value.forEach((item, i) => payloadsIn(item, `${path}[${i}]`, found));
    return found;
  }
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object')
    found.push({ path, payload: record as Payload });
  for (const [key, child] of Object.entries(record)) payloadsIn(child, `${path}.${key}`, found);
  return found;
}

/** A Persona inquiry event whose attributes (and, with a document, government ID) carry the canary. */
export function personaCanaryEvent(
  canary: Canary,
  input: { inquiryId: string; verificationId: string; status: string; name: string; withDocument: boolean; at?: Date },
): string {
  const at = (input.at ?? new Date()).toISOString();
  return JSON.stringify({
    data: {
      type: 'event',
      id: `evt_${randomBytes(10).toString('hex')}`,
      attributes: {
        name: input.name,
        'created-at': at,
        'redacted-at': null,
        payload: {
          data: {
            type: 'inquiry',
            id: input.inquiryId,
            attributes: {
              status: input.status,
              'reference-id': input.verificationId,
              'name-first': canary.first,
              'name-last': canary.last,
              'email-address': canary.email,
            },
          },
          included: input.withDocument
            ? [
                {
                  type: 'verification/government-id',
                  id: `ver_${randomBytes(8).toString('hex')}`,
                  attributes: {
                    status: 'passed',
                    'created-at': at,
                    'id-class': 'dl',
                    'identification-number': canary.document,
                    'name-first': canary.first,
                    'name-last': canary.last,
                    birthdate: '1990-01-01',
                    'address-street-1': canary.street,
                    'country-code': 'SE',
                  },
                },
              ]
            : [],
        },
      },
    },
  });
}

/** The production logger (redaction and serializers included), at its most verbose, into an array of lines. */
export function capturingLogger() {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logLines, logger: createLogger({ LOG_LEVEL: 'trace' }, 'veriflow', sink) };
}
