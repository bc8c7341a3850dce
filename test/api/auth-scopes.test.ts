// Which credential each route takes, for every route the OpenAPI document lists: tenant routes
// under /v1 need an API key, the operator route needs OPERATOR_TOKEN (a tenant key is not
// enough), and webhooks, sessions and health need neither. Pins auth while it moves between
// plugins; nothing here reaches Temporal.
import t from 'tap';
import { ensureDevTenant } from '../../api/services/tenants.ts';
import { buildTestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { TEST_API_KEY } from '../helpers/stack.ts';

const OPERATOR_ROUTES = new Set(['POST /v1/templates/sync']);
const OPERATOR_TOKEN = 'operator-token-0123456789';

t.test('auth per route', async (t) => {
  const db = await createTestDatabase(t);
  await ensureDevTenant(db.db, TEST_API_KEY);
  // Every 401 here spends the per-address budget of invalid keys: give it room.
  const app = await buildTestApp(t, db, { OPERATOR_TOKEN, RATE_LIMIT_INVALID_KEY_MAX: '1000' });
  await app.ready();
  const paths = (app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths;
  const routes = Object.entries(paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => ({
      method: method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE',
      // OpenAPI writes params as {id}; any value does: auth runs before the route looks at it.
      url: path.replace(/\{provider\}/g, 'persona').replace(/\{[^}]+\}/g, 'x'),
      name: `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`,
    })),
  );
  t.ok(routes.length >= 15, `the document lists the routes (${routes.length})`);
  const send = (route: (typeof routes)[number], authorization?: string) =>
    app.inject({
      method: route.method,
      url: route.url,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      ...(route.method === 'GET' ? {} : { payload: '{}' }),
    });

  const codeOf = (res: Awaited<ReturnType<typeof send>>) =>
    String(res.headers['content-type']).includes('json') ? (res.json() as { code?: string }).code : undefined;

  for (const route of routes) {
    const anonymous = await send(route);
    if (OPERATOR_ROUTES.has(route.name)) {
      t.equal(anonymous.statusCode, 401, `${route.name}: no credential`);
      t.equal(codeOf(anonymous), 'invalid_operator_token', route.name);
      const tenant = await send(route, `Bearer ${TEST_API_KEY}`);
      t.equal(codeOf(tenant), 'invalid_operator_token', `${route.name}: a tenant key is not the operator token`);
      const operator = await send(route, `Bearer ${OPERATOR_TOKEN}`);
      t.not(operator.statusCode, 401, `${route.name}: the operator token passes`);
    } else if (route.url.startsWith('/v1/')) {
      t.equal(anonymous.statusCode, 401, `${route.name}: no key`);
      t.equal(codeOf(anonymous), 'missing_api_key', route.name);
      const invalid = await send(route, 'Bearer vf_not_a_key');
      t.equal(codeOf(invalid), 'invalid_api_key', `${route.name}: unknown key`);
      const tenant = await send(route, `Bearer ${TEST_API_KEY}`);
      t.not(tenant.statusCode, 401, `${route.name}: a tenant key passes`);
    } else {
      const code = codeOf(anonymous);
      t.notOk(code === 'missing_api_key' || code === 'invalid_operator_token', `${route.name}: no API key or operator token asked`);
    }
  }
});
