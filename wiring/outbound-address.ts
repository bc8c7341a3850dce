// Which addresses outbound webhooks may reach. A tenant chooses the URL, so without these rules
// the worker would POST into our own network (databases, admin ports, the cloud metadata service)
// on the tenant's behalf. The same rules run when the URL is set and on every address dialled.
import { BlockList, isIP } from 'node:net';
import { commaList, type Env } from '../config/env.ts';

/** Where an address points. Only `public` is reachable without a setting. */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link_local' | 'unspecified' | 'multicast' | 'reserved';

function blockList(ranges: [prefix: string, bits: number][]): BlockList {
  const list = new BlockList();
  for (const [prefix, bits] of ranges) list.addSubnet(prefix, bits, isIP(prefix) === 6 ? 'ipv6' : 'ipv4');
  return list;
}

// net.BlockList matches IPv4-mapped IPv6 (::ffff:a.b.c.d, in any spelling) against IPv4 ranges.
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address too: they are unwrapped first.
const CLASSES: [AddressClass, BlockList][] = [
  [
    'unspecified',
    blockList([
      ['0.0.0.0', 8],
      ['::', 128],
    ]),
  ],
  [
    'loopback',
    blockList([
      ['127.0.0.0', 8],
      ['::1', 128],
    ]),
  ],
  [
    'link_local',
    blockList([
      ['169.254.0.0', 16],
      ['fe80::', 10],
    ]),
  ],
  // RFC 1918, CGNAT (RFC 6598), ULA (fc00::/7) and the deprecated site-local fec0::/10.
  [
    'private',
    blockList([
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
      ['100.64.0.0', 10],
      ['fc00::', 7],
      ['fec0::', 10],
    ]),
  ],
  [
    'multicast',
    blockList([
      ['224.0.0.0', 4],
      ['ff00::', 8],
    ]),
  ],
  // IETF protocol assignments, benchmarking, 240/4 (incl. broadcast), discard-only, IPv4-compatible IPv6.
  [
    'reserved',
    blockList([
      ['192.0.0.0', 24],
      ['198.18.0.0', 15],
      ['240.0.0.0', 4],
      ['100::', 64],
      ['::', 96],
    ]),
  ],
];

/** The IPv4 address a NAT64 or 6to4 address carries, if it is one. */
function embeddedIpv4(address: string): string | null {
  const words = expandIpv6(address);
  if (!words) return null;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  if (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0)) return v4(words[6]!, words[7]!);
  if (words[0] === 0x2002) return v4(words[1]!, words[2]!);
  return null;
}

function expandIpv6(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase();
  // A dotted tail (::ffff:1.2.3.4) becomes two hex words.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((w) => parseInt(w, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** Classifies an IP address (v4 or v6, without brackets); anything that is not an IP is `reserved`. */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 0) return 'reserved';
  const inner = family === 6 ? embeddedIpv4(address) : null;
  if (inner !== null) return classifyAddress(inner);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  return CLASSES.find(([, list]) => list.check(address, type))?.[0] ?? 'public';
}

/** What an outbound connection may reach (outboundPolicyFromEnv). */
export interface OutboundPolicy {
  /** Production: only https URLs. */
  httpsOnly: boolean;
  /** OUTBOUND_ALLOW_LOOPBACK: 127.0.0.0/8 and ::1, for receivers on a developer's machine. */
  allowLoopback: boolean;
  /** OUTBOUND_ALLOWED_HOSTS: hostnames (lower case) that may resolve to private, CGNAT or ULA addresses. */
  allowedHosts: readonly string[];
}

/**
 * Why `host` may not be reached at `address`, or null when it may. Link-local (the metadata
 * service), unspecified, multicast and reserved addresses are never reachable, whatever is set.
 */
export function addressRefusal(host: string, address: string, policy: OutboundPolicy): string | null {
  const kind = classifyAddress(address);
  if (kind === 'public') return null;
  if (kind === 'loopback' && policy.allowLoopback) return null;
  if (kind === 'private' && policy.allowedHosts.includes(host.toLowerCase())) return null;
  return `${address} is a ${kind.replace('_', '-')} address`;
}

/** The URL's host as an IP address (without IPv6 brackets), or null for a name. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : null;
}

/** Why the URL's scheme may not be used, or null: http(s) only, https only in production. */
export function schemeRefusal(url: URL, policy: OutboundPolicy): string | null {
  if (url.protocol === 'https:' || (url.protocol === 'http:' && !policy.httpsOnly)) return null;
  return policy.httpsOnly ? 'must use https' : 'must use http or https';
}

/**
 * Why the URL's host may not be reached, or null. A literal address is checked here; a name is
 * checked on every connection, against the address it resolved to (a DNS answer can change).
 * `localhost` names are loopback by definition (RFC 6761), whatever a resolver says.
 */
export function hostRefusal(url: URL, policy: OutboundPolicy): string | null {
  const host = url.hostname.toLowerCase();
  const address = literalAddress(url) ?? (host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : null);
  return address === null ? null : addressRefusal(host, address, policy);
}

export function outboundPolicyFromEnv(env: Pick<Env, 'NODE_ENV' | 'OUTBOUND_ALLOW_LOOPBACK' | 'OUTBOUND_ALLOWED_HOSTS'>): OutboundPolicy {
  return {
    httpsOnly: env.NODE_ENV === 'production',
    allowLoopback: env.OUTBOUND_ALLOW_LOOPBACK,
    allowedHosts: commaList(env.OUTBOUND_ALLOWED_HOSTS).map((host) => host.toLowerCase()),
  };
}
