import { BlockList, isIP } from 'node:net';

/**
 * Where the webhook may send registry requests. A pod names any image it likes, so without this an image reference
 * (or a registry's redirect, or its token realm) makes the webhook a proxy into the cluster network.
 *
 * - `registries`: host[:port] patterns an image may come from (`ghcr.io`, `*.pkg.dev`, `*` for any).
 * - Addresses: every host contacted (registry, token realm, redirect target) is resolved first and refused when any
 *   of its addresses is loopback, link-local (cloud metadata), private, shared (CGNAT), multicast or unspecified,
 *   unless inside `cidrs`. Registries the admin names as plain-HTTP (`trustedHosts`) are exempt: naming one is
 *   the admin allowing its address.
 */
export interface RegistryAccess {
  registries: string[];
  cidrs?: string[];
}

/** Public registries allowed out of the box (the chart's `webhook.registry.allowed` default). */
export const DEFAULT_ALLOWED_REGISTRIES = [
  'docker.io',
  'ghcr.io',
  'quay.io',
  'registry.k8s.io',
  'gcr.io',
  '*.gcr.io',
  '*.pkg.dev',
  'public.ecr.aws',
  '*.amazonaws.com',
  'mcr.microsoft.com',
  '*.azurecr.io',
  'registry.gitlab.com',
];

/** `pattern` (`host[:port]`, `*.suffix`, `*`) matches `registry` (as written in the image reference). */
export function registryMatches(pattern: string, registry: string): boolean {
  const p = pattern.trim().toLowerCase();
  const r = registry.toLowerCase();
  if (p === '*') return true;
  const norm = (h: string) => (h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h);
  if (p.startsWith('*.')) {
    const host = r.split(':')[0] ?? '';
    return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  }
  return norm(p) === norm(r);
}

export function registryAllowed(registry: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => registryMatches(p, registry));
}

const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const BLOCKED_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
];

/** Decides which addresses may be contacted. */
export class AddressPolicy {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  constructor(cidrs: readonly string[] = []) {
    for (const [net, prefix] of BLOCKED_V4) this.blocked.addSubnet(net, prefix, 'ipv4');
    for (const [net, prefix] of BLOCKED_V6) this.blocked.addSubnet(net, prefix, 'ipv6');
    for (const cidr of cidrs) {
      const [net = '', prefix] = cidr.split('/');
      const family = isIP(net);
      if (!family) throw new Error(`registry CIDR "${cidr}": not an IP network`);
      const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
        throw new Error(`registry CIDR "${cidr}": bad prefix length`);
      }
      this.allowed.addSubnet(net, bits, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Why `ip` may not be contacted, or undefined when it may. */
  refuse(ip: string): string | undefined {
    let addr = ip;
    let family = isIP(addr);
    // IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
    if (mapped) {
      addr = mapped[1]!;
      family = 4;
    }
    if (!family) return `${ip} is not an IP address`;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(addr, type)) return undefined;
    if (this.blocked.check(addr, type)) return `${ip} is a loopback, link-local, private or reserved address`;
    return undefined;
  }
}
