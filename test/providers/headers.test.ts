// The signature header as the adapters read it: any case, and repeats combined per provider.
import t from 'tap';
import { headerValue } from '../../providers/headers.ts';

t.test('found whatever its case; repeats joined with the separator, or the first without one', async (t) => {
  const headers = { 'Persona-Signature': ['t=1,v1=a', 't=1,v1=b'], 'stripe-signature': 't=1,v1=c', other: undefined };
  t.equal(headerValue(headers, 'persona-signature', ' '), 't=1,v1=a t=1,v1=b');
  t.equal(headerValue(headers, 'persona-signature', ','), 't=1,v1=a,t=1,v1=b');
  t.equal(headerValue(headers, 'persona-signature'), 't=1,v1=a');
  t.equal(headerValue(headers, 'stripe-signature', ','), 't=1,v1=c', 'a single value as it is');
  t.equal(headerValue(headers, 'x-idmeta-signature'), undefined, 'absent');
  t.equal(headerValue(headers, 'other'), undefined);
});
