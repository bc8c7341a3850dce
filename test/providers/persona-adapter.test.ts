import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { WebhookSignatureError } from '../../providers/errors.ts';
import { UnknownProviderError, createProviderRegistry } from '../../providers/index.ts';
import { createPersonaAdapter } from '../../providers/persona/index.ts';

const config = { apiUrl: 'https://withpersona.com', apiKey: 'key', templateId: 'itmpl_1', webhookSecret: 'whsec_a' };
const rawBody = readFileSync(new URL('../fixtures/persona/inquiry-approved.json', import.meta.url));
const now = new Date('2025-03-14T10:05:13Z');
const timestamp = Math.floor(now.getTime() / 1000);
const signature = (secret: string) =>
  `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;

t.test('the adapter verifies then parses a Persona webhook', async (tt) => {
  const adapter = createPersonaAdapter(config);
  tt.equal(adapter.name, 'persona');
  tt.same(adapter.capabilities, {
    fetchBeforeApply: true,
    bodySigned: true,
    polling: true,
    reverification: false,
    sessionExpiry: true,
    longLived: false,
  });
  tt.doesNotThrow(() => adapter.verifyWebhook({ rawBody, headers: { 'persona-signature': signature('whsec_a') } }, now));
  tt.doesNotThrow(
    () => adapter.verifyWebhook({ rawBody, headers: { 'Persona-Signature': signature('whsec_a') } }, now),
    'header names are case-insensitive',
  );
  tt.throws(() => adapter.verifyWebhook({ rawBody, headers: {} }, now), /missing/);
  tt.throws(() => adapter.verifyWebhook({ rawBody, headers: { 'persona-signature': signature('whsec_b') } }, now), WebhookSignatureError);
  tt.equal(adapter.parseWebhook(rawBody).status, 'approved');
});

t.test('repeated signature headers count as rotation sets; several secrets are accepted', async (tt) => {
  const adapter = createPersonaAdapter({ ...config, webhookSecret: ['whsec_old', 'whsec_new'] });
  const headers = { 'persona-signature': [signature('whsec_other'), signature('whsec_new')] };
  tt.doesNotThrow(() => adapter.verifyWebhook({ rawBody, headers }, now));
});

t.test('the registry hands out configured providers and names the missing ones', async (tt) => {
  const registry = createProviderRegistry({ persona: config });
  tt.equal(registry.get('persona').name, 'persona');
  tt.ok(registry.has('persona'));
  tt.notOk(registry.has('stripe'));
  tt.same(registry.list(), ['persona']);

  tt.throws(() => registry.get('stripe'), { code: 'VF_UNKNOWN_PROVIDER', message: 'Provider stripe is not configured' });
  tt.throws(() => registry.get('acme'), { code: 'VF_UNKNOWN_PROVIDER', message: 'Unknown provider acme' });
  tt.throws(() => registry.get('persona '), UnknownProviderError);
  tt.throws(() => registry.get('toString'), UnknownProviderError, 'prototype names are not providers');

  const empty = createProviderRegistry({});
  tt.same(empty.list(), []);
  tt.throws(() => empty.get('persona'), { code: 'VF_UNKNOWN_PROVIDER', message: 'Provider persona is not configured' });
});
