import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as an integer, tagged with its family so IPv4 never matches an IPv6 block. */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

/** A CIDR block: every address whose top `prefixLength` bits equal the network's. */
export interface CidrBlock {
  family: 4 | 6;
  network: bigint;
  prefixLength: number;
}

/** Parses a dotted IPv4 or any RFC 4291 IPv6 text form; returns undefined for anything else. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (isIPv4(text)) {
    let value = 0n;
    for (const octet of text.split('.')) value = (value << 8n) | BigInt(Number(octet));
    return { family: 4, value };
  }
  if (isIPv6(text)) return { family: 6, value: parseIpv6(text) };
  return undefined;
}

function parseIpv6(text: string): bigint {
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two 16-bit groups.
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const octets = maybeV4.split('.').map(Number);
    tail = [((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left = '', right] = head.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const missing = 8 - tail.length - leftGroups.length - rightGroups.length;
  const groups = [
    ...leftGroups.map((g) => Number.parseInt(g, 16)),
    ...(right === undefined ? [] : new Array<number>(missing).fill(0)),
    ...rightGroups.map((g) => Number.parseInt(g, 16)),
    ...tail,
  ];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/** Parses `address/prefix`; throws with a reason when the text is not a CIDR block. */
export function parseCidr(text: string): CidrBlock {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`Malformed CIDR "${text}": one "/" required`);
  const address = parseIpAddress(text.slice(0, slash));
  if (!address) throw new Error(`Malformed CIDR "${text}": "${text.slice(0, slash)}" is not an IP address`);
  const prefixText = text.slice(slash + 1);
  const bits = address.family === 4 ? 32 : 128;
  const prefixLength = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefixLength > bits) {
    throw new Error(`Malformed CIDR "${text}": prefix length must be 0-${bits}`);
  }
  return { family: address.family, network: mask(address.value, bits, prefixLength), prefixLength };
}

/** True when `address` falls inside `block` (same family only). */
export function cidrContains(block: CidrBlock, address: IpAddress): boolean {
  if (block.family !== address.family) return false;
  const bits = block.family === 4 ? 32 : 128;
  return mask(address.value, bits, block.prefixLength) === block.network;
}

function mask(value: bigint, bits: number, prefixLength: number): bigint {
  const hostBits = BigInt(bits - prefixLength);
  return (value >> hostBits) << hostBits;
}
