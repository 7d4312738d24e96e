import net from 'node:net';

export interface AddressList {
  /** True when the address is in the list (IPv4-mapped IPv6 addresses count as IPv4). */
  has(address: string): boolean;
  /** True for `*`: every address. */
  any: boolean;
}

/**
 * Parses `*` or comma-separated addresses and CIDR ranges (IPv4 or IPv6), e.g.
 * `52.89.214.238, 10.0.0.0/8, ::1`. Throws on an entry it cannot read.
 */
export function parseAddressList(spec: string): AddressList {
  const entries = spec
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.includes('*')) return { any: true, has: () => true };
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = net.isIP(address);
    if (family === 0) throw new Error(`not an IP address or CIDR range: "${entry.slice(0, 60)}"`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(address, type);
    } else {
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new Error(`bad CIDR prefix in "${entry.slice(0, 60)}"`);
      list.addSubnet(address, prefix, type);
    }
  }
  // BlockList.check builds a socket-address object per call (~11 µs, issue 9); the list never
  // changes, so each address's answer is kept (bounded: cleared when it grows past 10,000).
  const answers = new Map<string, boolean>();
  return {
    any: false,
    has: (raw) => {
      const known = answers.get(raw);
      if (known !== undefined) return known;
      const address = unmapIPv4(raw);
      const family = net.isIP(address);
      const allowed = family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
      if (answers.size >= 10_000) answers.clear();
      answers.set(raw, allowed);
      return allowed;
    },
  };
}

export function isAllowSpec(spec: string): boolean {
  try {
    parseAddressList(spec);
    return true;
  } catch {
    return false;
  }
}

/** `::ffff:1.2.3.4` (how a dual-stack socket shows an IPv4 peer) → `1.2.3.4`. */
export function unmapIPv4(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
