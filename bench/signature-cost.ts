// What an unauthenticated webhook can cost: each provider's verifier on a 1 MiB body, a valid
// signature against the worst forged header the bounds still let through (and the 800-set
// header that used to cost ~1 s). In-process and CPU-only; `node bench/signature-cost.ts` runs
// it alone, `npm run bench` includes it.
import { createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import Stripe from 'stripe';
import { Signature } from 'smile-identity-core';
import { verifyIdmetaSignature } from '../providers/idmeta/signature.ts';
import { verifyPersonaSignature } from '../providers/persona/signature.ts';
import { verifySmileIdCallback } from '../providers/smileid/webhook.ts';
import { verifyStripeSignature } from '../providers/stripe/signature.ts';
import { summarize } from './stats.ts';

const MiB = 1024 * 1024;
const SECRET = 'bench_webhook_secret';
const FORGED = 'ab'.repeat(32);
const ROUNDS = Number(process.env.BENCH_SIGNATURE_ROUNDS ?? 40);

export interface SignatureCost {
  provider: string;
  forged: string;
  validP50Ms: number;
  forgedP50Ms: number;
  /** Forged minus valid, p50; the goal is < 5 ms. */
  extraMs: number;
}

function timeP50(run: () => void): number {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    try {
      run();
    } catch {
      // A forged header is refused: the refusal is what is timed.
    }
    samples.push(performance.now() - start);
  }
  return summarize(samples).p50;
}

export function measureSignatureCost(): SignatureCost[] {
  const now = new Date();
  const t = Math.floor(now.getTime() / 1000);
  const body = Buffer.from(JSON.stringify({ id: 'evt_bench', pad: 'x'.repeat(MiB - 40) }));
  const persona = (header: string) => () => verifyPersonaSignature({ rawBody: body, header, secret: SECRET, now });
  const personaValid = `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.`).update(body).digest('hex')}`;
  const stripe = (header: string) => () => verifyStripeSignature({ rawBody: body, header, secret: SECRET, now });
  const stripeValid = Stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: SECRET, timestamp: t });
  const idmeta = (header: string) => () => verifyIdmetaSignature({ rawBody: body, header, secret: SECRET });
  const smileid = (key: string) => {
    const timestamp = now.toISOString();
    const callback = Buffer.from(
      JSON.stringify({
        timestamp,
        signature: new Signature('0421', key).generate_signature(timestamp).signature,
        pad: 'x'.repeat(MiB - 200),
      }),
    );
    return () => verifySmileIdCallback({ rawBody: callback, partnerId: '0421', apiKey: SECRET, now });
  };

  const cases: [string, string, () => void, () => void][] = [
    [
      'persona',
      '8 sets, 2 timestamps (worst allowed)',
      persona(personaValid),
      persona(Array.from({ length: 8 }, (_, i) => `t=${t - (i % 2)},v1=${FORGED}`).join(' ')),
    ],
    [
      'persona',
      '800 sets (refused unread)',
      persona(personaValid),
      persona(Array.from({ length: 800 }, (_, i) => `t=${t - (i % 300)},v1=${FORGED}`).join(' ')),
    ],
    [
      'stripe',
      '8 v1 signatures (worst allowed)',
      stripe(stripeValid),
      stripe(`t=${t},${Array.from({ length: 8 }, () => `v1=${FORGED}`).join(',')}`),
    ],
    [
      'stripe',
      '800 v1 signatures (refused unread)',
      stripe(stripeValid),
      stripe(`t=${t},${Array.from({ length: 800 }, () => `v1=${FORGED}`).join(',')}`),
    ],
    ['idmeta', 'wrong HMAC', idmeta(createHmac('sha256', SECRET).update(body).digest('hex')), idmeta(FORGED)],
    ['smileid', 'signed with another key', smileid(SECRET), smileid('wrong_key')],
  ];
  return cases.map(([provider, forged, valid, attack]) => {
    const validP50Ms = timeP50(valid);
    const forgedP50Ms = timeP50(attack);
    return { provider, forged, validP50Ms, forgedP50Ms, extraMs: Math.round((forgedP50Ms - validP50Ms) * 10) / 10 };
  });
}

export function renderSignatureCost(costs: SignatureCost[]): string {
  return [
    '| verifier, 1 MiB body | forged header | valid p50 ms | forged p50 ms | extra ms (goal < 5) |',
    '| --- | --- | --- | --- | --- |',
    ...costs.map((c) => `| ${c.provider} | ${c.forged} | ${c.validP50Ms} | ${c.forgedP50Ms} | ${c.extraMs} |`),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(renderSignatureCost(measureSignatureCost()) + '\n');
