// The undici dispatcher outbound webhooks are sent through. The address rules are applied to the
// address actually dialled: a literal one before connecting, a name's after resolving it (in the
// socket's own lookup, so nothing can swap the answer between check and connect).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { addressRefusal, type OutboundPolicy } from './outbound-address.ts';

export class OutboundAddressRefusedError extends Error {
  readonly code = 'VF_OUTBOUND_ADDRESS_REFUSED';
  override readonly name = 'OutboundAddressRefusedError';
}

type Resolve = (hostname: string, callback: (err: Error | null, addresses: LookupAddress[]) => void) => void;

const resolveAll: Resolve = (hostname, callback) => dnsLookup(hostname, { all: true }, (err, addresses) => callback(err, addresses ?? []));

/** A net `lookup` that fails when any address the name resolves to is refused (one bad answer is enough for rebinding). */
function guardedLookup(policy: OutboundPolicy, resolve: Resolve): LookupFunction {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    resolve(hostname, (err, all) => {
      if (err) return callback(err, []);
      const addresses = all.filter((a) => !options.family || a.family === options.family);
      const refusal = addresses.map((a) => addressRefusal(hostname, a.address, policy)).find((r) => r !== null);
      if (refusal) return callback(new OutboundAddressRefusedError(`${hostname} resolves to a refused address: ${refusal}`), []);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface OutboundAgentOptions {
  connectTimeoutMs?: number;
  /** Name resolution (tests); dns.lookup by default. */
  resolve?: Resolve;
}

/** One per process: keeps connections to receivers alive between deliveries. Redirects are never followed (undici's default). */
export function createOutboundAgent(
  policy: OutboundPolicy,
  { connectTimeoutMs = 10_000, resolve = resolveAll }: OutboundAgentOptions = {},
): Agent {
  const connector = buildConnector({ timeout: connectTimeoutMs, lookup: guardedLookup(policy, resolve) });
  return new Agent({
    connect(options, callback) {
      // net.connect skips `lookup` for a literal address: check it here.
      const refusal = isIP(options.hostname) ? addressRefusal(options.hostname, options.hostname, policy) : null;
      if (refusal) return callback(new OutboundAddressRefusedError(refusal), null);
      connector(options, callback);
    },
  });
}
