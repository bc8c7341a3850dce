// The dev-stack row of `npm run bench`: webhook ack latency of `npm run dev` itself at 10
// concurrent deliveries, on the embedded database (PGlite served over the wire protocol) and on
// Postgres (DATABASE_URL), alternating runs because single runs on 2 shared cores swing
// several-fold; the median of the rounds is the figure, the goal is embedded p99 ≤ 2× Postgres.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { devStackEnv, startDev } from '../test/helpers/dev-process.ts';
import { personaEventBody, postPersonaWebhook } from '../test/helpers/persona-webhooks.ts';
import { PERSONA_SECRETS } from '../test/helpers/stack.ts';
import { summarize, type LatencySummary } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_DEV_ROUNDS ?? 3);
const CONCURRENCY = 10;
const PHASE_MS = Number(process.env.BENCH_DEV_PHASE_MS ?? 8_000);
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DEV_API_KEY = 'vf_dev_key';

type Kind = 'embedded' | 'postgres';

async function measure(kind: Kind, round: number): Promise<LatencySummary> {
  const cleanups: (() => unknown)[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'vf-bench-dev-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  try {
    const env: Record<string, string> = {
      ...(await devStackEnv(dir)),
      PERSONA_WEBHOOK_SECRET: PERSONA_SECRETS.webhookSecret,
      VERIFLOW_DEV_API_KEY: DEV_API_KEY,
    };
    if (kind === 'postgres') {
      const name = `vf_bench_dev_${process.pid}_${round}`;
      const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await admin`create database ${admin(name)}`;
      cleanups.push(async () => {
        await admin`drop database if exists ${admin(name)} with (force)`;
        await admin.end();
      });
      env.DATABASE_URL = `${ADMIN_URL.replace(/\/[^/]*$/, '')}/${name}`;
    }
    const dev = await startDev({ teardown: (fn) => void cleanups.push(fn) }, env as Parameters<typeof startDev>[1]);
    cleanups.push(async () => {
      dev.signalGroup('SIGINT');
      await dev.exited;
    });
    const created = await fetch(`${dev.apiUrl}/v1/verifications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify({ provider: 'persona' }),
    });
    const verification = (await created.json()) as { id: string; sessionUrl: string | null };
    if (!verification.sessionUrl) throw new Error(`dev stack (${kind}) opened no session: ${created.status}`);
    const inquiryId = new URL(verification.sessionUrl).searchParams.get('inquiry-id')!;

    const samples: number[] = [];
    let errors = 0;
    const until = Date.now() + PHASE_MS;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < until) {
          const { body } = personaEventBody({
            name: 'inquiry.started',
            createdAt: new Date(),
            inquiryId,
            referenceId: verification.id,
            status: 'pending',
          });
          const started = performance.now();
          const answer = await postPersonaWebhook(dev.apiUrl, body);
          samples.push(performance.now() - started);
          if (answer.status !== 200) errors += 1;
        }
      }),
    );
    if (errors > 0) throw new Error(`dev stack (${kind}): ${errors} webhooks were not acknowledged 200`);
    return summarize(samples);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const results: Record<Kind, LatencySummary[]> = { embedded: [], postgres: [] };
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const kind of round % 2 === 1 ? (['embedded', 'postgres'] as const) : (['postgres', 'embedded'] as const)) {
      const result = await measure(kind, round);
      results[kind].push(result);
      console.log(`dev stack round ${round} ${kind}: n=${result.count} p50=${result.p50} ms p99=${result.p99} ms`);
    }
  }
  const p99 = { embedded: median(results.embedded.map((r) => r.p99)), postgres: median(results.postgres.map((r) => r.p99)) };
  const p50 = { embedded: median(results.embedded.map((r) => r.p50)), postgres: median(results.postgres.map((r) => r.p50)) };
  const ratio = p99.embedded / p99.postgres;
  console.log(`\n### Dev stack (npm run dev), webhook ack at ${CONCURRENCY} concurrent, median of ${ROUNDS} alternating rounds\n`);
  console.log('| database | p50 ms | p99 ms | goal |');
  console.log('|---|---|---|---|');
  console.log(
    `| embedded (PGlite over the wire protocol) | ${p50.embedded} | ${p99.embedded} | p99 ≤ 2× Postgres: ${ratio.toFixed(2)}× ${ratio <= 2 ? 'met' : 'not met'} |`,
  );
  console.log(`| Postgres (DATABASE_URL) | ${p50.postgres} | ${p99.postgres} | |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
