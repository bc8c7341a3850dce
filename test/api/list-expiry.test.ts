// Seed 002's two questions, "pending verifications expiring soon" and "all expired", as list
// filters on the session expiry: combined with the other filters and cursor pages, and served
// by an index rather than a scan of the tenant's verifications.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { ensureDevTenant } from '../../api/services/tenants.ts';
import { verifications } from '../../db/schema/index.ts';
import { buildTestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { TEST_API_KEY } from '../helpers/stack.ts';

const HOUR = 3_600_000;

t.test('list filters expiresBefore / expiresAfter', async (t) => {
  const db = await createTestDatabase(t);
  const app = await buildTestApp(t, db, {});
  const tenantId = await ensureDevTenant(db.db, TEST_API_KEY);
  const now = Date.now();
  // Created one after the other (newest last), expiries spread around now; one without a session yet.
  const planted = [
    { name: 'expired-long-ago', status: 'expired', expiresIn: -48 * HOUR },
    { name: 'expired-just-now', status: 'expired', expiresIn: -1 * HOUR },
    { name: 'pending-30m', status: 'pending', expiresIn: 0.5 * HOUR },
    { name: 'pending-45m', status: 'pending', expiresIn: 0.75 * HOUR },
    { name: 'approved-50m', status: 'approved', expiresIn: 0.8 * HOUR },
    { name: 'pending-20h', status: 'pending', expiresIn: 20 * HOUR },
    { name: 'no-session', status: 'created', expiresIn: null },
  ];
  const ids = new Map<string, string>();
  for (const [i, p] of planted.entries()) {
    const id = randomUUID();
    ids.set(p.name, id);
    await db.db.insert(verifications).values({
      id,
      tenantId,
      provider: 'persona',
      status: p.status,
      reference: p.name,
      workflowId: `verification-${id}`,
      expiresAt: p.expiresIn === null ? null : new Date(now + p.expiresIn),
      createdAt: new Date(now - (planted.length - i) * 60_000),
    });
  }
  const list = async (query: string) => {
    const response = await app.inject({
      method: 'GET',
      url: `/v1/verifications?${query}`,
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    return { status: response.statusCode, body: response.json() };
  };
  const names = (body: { data: { reference: string }[] }) => body.data.map((v) => v.reference);
  const at = (offset: number) => encodeURIComponent(new Date(now + offset).toISOString());

  const soon = await list(`status=pending&expiresAfter=${at(0)}&expiresBefore=${at(HOUR)}`);
  t.equal(soon.status, 200);
  t.same(names(soon.body), ['pending-45m', 'pending-30m'], 'pending, expiring within the hour, newest first');

  const expired = await list(`status=expired`);
  t.same(names(expired.body), ['expired-just-now', 'expired-long-ago'], 'all expired');
  const pastExpiry = await list(`expiresBefore=${at(0)}`);
  t.same(names(pastExpiry.body), ['expired-just-now', 'expired-long-ago'], 'expiry in the past; no session means no expiry');
  const later = await list(`expiresAfter=${at(HOUR)}`);
  t.same(names(later.body), ['pending-20h']);

  // Bounds are inclusive, like createdAfter / createdBefore.
  const exact = new Date(now + 0.5 * HOUR).toISOString();
  const inclusive = await list(`expiresAfter=${encodeURIComponent(exact)}&expiresBefore=${encodeURIComponent(exact)}`);
  t.same(names(inclusive.body), ['pending-30m'], 'both bounds inclusive');

  // Cursor pages keep the filter: every page, no gaps or repeats.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { data: { reference: string }[]; nextCursor: string | null } } = await list(
      `expiresAfter=${at(-HOUR * 2)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    t.equal(page.status, 200);
    seen.push(...names(page.body));
    cursor = page.body.nextCursor;
  } while (cursor);
  t.same(seen, ['pending-20h', 'approved-50m', 'pending-45m', 'pending-30m', 'expired-just-now'], 'pages keep the filter');

  const bad = await list('expiresBefore=tomorrow');
  t.equal(bad.status, 400, 'not a date-time: 400');
  t.match(bad.body, { status: 400 });

  const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const parameters: { name: string; in: string; description?: string }[] = openapi.paths['/v1/verifications'].get.parameters;
  for (const name of ['expiresBefore', 'expiresAfter'])
    t.ok(
      parameters.some((p) => p.name === name && p.in === 'query' && p.description),
      `${name} documented in OpenAPI`,
    );
});

t.test('the expiry filter is served by an index on (tenant, expiry)', async (t) => {
  const db = await createTestDatabase(t);
  const tenantId = await ensureDevTenant(db.db, TEST_API_KEY);
  // Enough rows that a scan of the tenant's verifications would cost more than the index.
  await db.db.execute(sql`
    insert into verifications (id, tenant_id, provider, status, workflow_id, expires_at, created_at)
    select gen_random_uuid(), ${tenantId}, 'persona', 'pending', 'wf-' || g, now() + (g || ' minutes')::interval, now()
    from generate_series(1, 5000) g`);
  await db.db.execute(sql`analyze verifications`);
  const plan = await db.db.execute(sql`
    explain select * from verifications
    where tenant_id = ${tenantId} and expires_at >= now() and expires_at <= now() + interval '1 hour'
    order by created_at desc, id desc limit 21`);
  const text = (plan as unknown as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
  t.match(text, /verifications_tenant_id_expires_at_idx/, `plan uses the expiry index:\n${text}`);
});
