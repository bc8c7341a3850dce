// The address rules of outbound webhooks (unit + properties), and the dispatcher that applies
// them to the address actually dialled. Only loopback servers are contacted.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { request } from 'undici';
import { parseEnv } from '../../config/env.ts';
import {
  addressRefusal,
  classifyAddress,
  hostRefusal,
  outboundPolicyFromEnv,
  schemeRefusal,
  type OutboundPolicy,
} from '../../wiring/outbound-address.ts';
import { createOutboundAgent, OutboundAddressRefusedError } from '../../wiring/outbound-agent.ts';

const STRICT: OutboundPolicy = { httpsOnly: false, allowLoopback: false, allowedHosts: [] };
const EVERYTHING_ALLOWED: OutboundPolicy = {
  httpsOnly: false,
  allowLoopback: true,
  allowedHosts: ['hooks.internal', '169.254.169.254', '0.0.0.0', '224.0.0.1'],
};

const octet = fc.integer({ min: 0, max: 255 });
const ipv4In = (a: number, b?: fc.Arbitrary<number>) => fc.tuple(b ?? octet, octet, octet).map(([x, y, z]) => `${a}.${x}.${y}.${z}`);
const hexWord = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
/** The same IPv4 address as IPv4-mapped IPv6, dotted or in hex words. */
const mapped = (v4: string) => {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
  return [`::ffff:${v4}`, `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`, `0:0:0:0:0:ffff:${v4}`];
};

t.test('classifyAddress: each range, in both families', async (t) => {
  const cases: [string, string][] = [
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.1', 'public'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['fe80::1', 'link_local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['2002:a00:1::1', 'private'],
    ['not-an-ip', 'reserved'],
  ];
  for (const [address, kind] of cases) t.equal(classifyAddress(address), kind, address);
});

t.test('property: an IPv4 address and its IPv4-mapped IPv6 forms are classified alike', async (t) => {
  fc.assert(
    fc.property(fc.tuple(octet, octet, octet, octet), (parts) => {
      const v4 = parts.join('.');
      return mapped(v4).every((v6) => classifyAddress(v6) === classifyAddress(v4));
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 addresses');
});

t.test('property: link-local (metadata), unspecified and multicast are refused whatever is allowed', async (t) => {
  const never = fc.oneof(
    ipv4In(169, fc.constant(254)),
    ipv4In(0),
    fc.integer({ min: 224, max: 239 }).chain((a) => ipv4In(a)),
    fc.tuple(fc.integer({ min: 0xfe80, max: 0xfebf }), hexWord).map(([a, b]) => `${a.toString(16)}::${b}`),
    fc.tuple(fc.integer({ min: 0xff00, max: 0xffff }), hexWord).map(([a, b]) => `${a.toString(16)}::${b}`),
    fc.constant('::'),
  );
  fc.assert(
    fc.property(never, fc.boolean(), (address, asMapped) => {
      const forms = asMapped && !address.includes(':') ? mapped(address) : [address];
      return forms.every(
        (form) =>
          addressRefusal(form, form, EVERYTHING_ALLOWED) !== null && addressRefusal('hooks.internal', form, EVERYTHING_ALLOWED) !== null,
      );
    }),
    { numRuns: 2000 },
  );
  t.pass('never allowed');
});

t.test('property: private ranges only for allow-listed hosts; loopback only with OUTBOUND_ALLOW_LOOPBACK', async (t) => {
  const privateV4 = fc.oneof(
    ipv4In(10),
    ipv4In(172, fc.integer({ min: 16, max: 31 })),
    ipv4In(192, fc.constant(168)),
    ipv4In(100, fc.integer({ min: 64, max: 127 })),
  );
  const ula = fc.tuple(fc.integer({ min: 0xfc00, max: 0xfdff }), hexWord).map(([a, b]) => `${a.toString(16)}::${b}`);
  fc.assert(
    fc.property(fc.oneof(privateV4, ula), fc.constantFrom('hooks.internal', 'HOOKS.internal'), (address, host) => {
      const allowed = { ...STRICT, allowedHosts: ['hooks.internal'] };
      return (
        addressRefusal(host, address, STRICT) !== null &&
        addressRefusal('elsewhere.internal', address, allowed) !== null &&
        addressRefusal(host, address, allowed) === null &&
        addressRefusal(host, address, { ...STRICT, allowLoopback: true }) !== null
      );
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(
      ipv4In(127),
      (address) =>
        addressRefusal(address, address, STRICT) !== null && addressRefusal(address, address, { ...STRICT, allowLoopback: true }) === null,
    ),
    { numRuns: 500 },
  );
  t.equal(addressRefusal('::1', '::1', { ...STRICT, allowLoopback: true }), null, '::1 with loopback allowed');
  t.not(
    addressRefusal('hooks.internal', '127.0.0.1', { ...STRICT, allowedHosts: ['hooks.internal'] }),
    null,
    'the host list does not open loopback',
  );
});

t.test('schemeRefusal and hostRefusal on URLs; the policy from the environment', async (t) => {
  const production = outboundPolicyFromEnv(
    parseEnv({
      NODE_ENV: 'production',
      PAYLOAD_ENCRYPTION_KEYS: `v1:${Buffer.alloc(32, 1).toString('base64')}`,
      DATABASE_URL: 'postgres://db/vf',
      PUBLIC_BASE_URL: 'https://vf.example',
      OUTBOUND_ALLOWED_HOSTS: ' Hooks.Internal , other.internal',
    }),
  );
  t.same(production, { httpsOnly: true, allowLoopback: false, allowedHosts: ['hooks.internal', 'other.internal'] });
  t.equal(schemeRefusal(new URL('http://client.example/hooks'), production), 'must use https');
  t.equal(schemeRefusal(new URL('https://client.example/hooks'), production), null);
  t.equal(schemeRefusal(new URL('ftp://client.example/hooks'), STRICT), 'must use http or https');
  t.same(outboundPolicyFromEnv(parseEnv({ OUTBOUND_ALLOW_LOOPBACK: 'true' })), { httpsOnly: false, allowLoopback: true, allowedHosts: [] });

  t.match(hostRefusal(new URL('http://[::ffff:169.254.169.254]/'), EVERYTHING_ALLOWED), /link-local/);
  t.match(hostRefusal(new URL('http://localhost:3000/'), STRICT), /loopback/);
  t.match(hostRefusal(new URL('http://api.localhost/'), STRICT), /loopback/);
  t.equal(hostRefusal(new URL('http://localhost:3000/'), { ...STRICT, allowLoopback: true }), null);
  t.equal(hostRefusal(new URL('https://client.example/hooks'), STRICT), null, 'names are checked when dialled');
});

t.test('the outbound agent checks the address it dials', async (t) => {
  let connections = 0;
  const server = createServer((_req, res) => res.writeHead(204).end());
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  const port = (server.address() as AddressInfo).port;

  const strict = createOutboundAgent(STRICT);
  t.teardown(() => strict.close());
  await t.rejects(request(`http://127.0.0.1:${port}/`, { dispatcher: strict }), OutboundAddressRefusedError, 'a literal loopback address');
  await t.rejects(
    request(`http://[::ffff:127.0.0.1]:${port}/`, { dispatcher: strict }),
    OutboundAddressRefusedError,
    'IPv4-mapped loopback',
  );
  // A public-looking name whose DNS answer is loopback (rebinding): refused after resolution.
  const rebinding = createOutboundAgent(STRICT, { resolve: (_host, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) });
  t.teardown(() => rebinding.close());
  await t.rejects(
    request(`http://hooks.client.example:${port}/`, { dispatcher: rebinding }),
    OutboundAddressRefusedError,
    'a name resolving to loopback',
  );
  const mixed = createOutboundAgent(STRICT, {
    resolve: (_host, callback) =>
      callback(null, [
        { address: '93.184.215.14', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ]),
  });
  t.teardown(() => mixed.close());
  await t.rejects(
    request('http://hooks.client.example/', { dispatcher: mixed }),
    OutboundAddressRefusedError,
    'one refused address among public ones',
  );
  t.equal(connections, 0, 'no connection was made');

  const loopback = createOutboundAgent(
    { ...STRICT, allowLoopback: true },
    { resolve: (_host, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) },
  );
  t.teardown(() => loopback.close());
  t.equal((await request(`http://127.0.0.1:${port}/`, { dispatcher: loopback })).statusCode, 204, 'loopback allowed by the setting');
  t.equal(
    (await request(`http://hooks.dev.example:${port}/`, { dispatcher: loopback })).statusCode,
    204,
    'a name resolving to an allowed address',
  );
  t.equal(connections, 2);
});
