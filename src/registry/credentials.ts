import { DOCKER_HUB } from './reference.js';

export interface Credential {
  username: string;
  password: string;
}

/** One `.dockerconfigjson` (or legacy `.dockercfg`) document: registry key -> credential. */
export type DockerConfig = Record<string, Credential>;

/** Parses a dockerconfigjson / dockercfg payload; entries without usable credentials are skipped. */
export function parseDockerConfig(text: string): DockerConfig {
  const doc = JSON.parse(text) as Record<string, unknown>;
  const auths = (doc.auths && typeof doc.auths === 'object' ? doc.auths : doc) as Record<string, unknown>;
  const out: DockerConfig = {};
  for (const [key, raw] of Object.entries(auths)) {
    if (!raw || typeof raw !== 'object') continue;
    const e = raw as { username?: unknown; password?: unknown; auth?: unknown };
    let username = typeof e.username === 'string' ? e.username : undefined;
    let password = typeof e.password === 'string' ? e.password : undefined;
    if ((!username || password === undefined) && typeof e.auth === 'string') {
      const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        username = decoded.slice(0, i);
        password = decoded.slice(i + 1);
      }
    }
    if (username && password !== undefined) out[key] = { username, password };
  }
  return out;
}

/** `https://host:port/path/` -> { host, path } as the kubelet's credential keyring normalises keys. */
function splitKey(key: string): { host: string; path: string } {
  const k = key.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  const i = k.indexOf('/');
  const host = (i < 0 ? k : k.slice(0, i)).toLowerCase();
  const path = i < 0 ? '' : k.slice(i + 1);
  const hub = ['index.docker.io', 'registry-1.docker.io', DOCKER_HUB];
  // `https://host/v1/` and `/v2/` name the API, not a repository prefix.
  const p = path === 'v1' || path === 'v2' ? '' : path;
  return { host: hub.includes(host) ? DOCKER_HUB : host, path: p };
}

function hostMatches(pattern: string, host: string): boolean {
  const [pHost = '', pPort] = pattern.split(':');
  const [hHost = '', hPort] = host.split(':');
  if ((pPort ?? '') !== (hPort ?? '')) return false;
  const p = pHost.split('.');
  const h = hHost.split('.');
  if (p.length !== h.length) return false;
  return p.every((label, i) => label === '*' || label === h[i]);
}

/**
 * Every credential that applies to `registry/repository`, most specific key first (the kubelet's order: it
 * tries them all until one works).
 */
export function credentialsFor(configs: DockerConfig[], registry: string, repository: string): Credential[] {
  const target = registry === 'index.docker.io' ? DOCKER_HUB : registry.toLowerCase();
  const found: { score: number; cred: Credential }[] = [];
  for (const config of configs) {
    for (const [key, cred] of Object.entries(config)) {
      const { host, path } = splitKey(key);
      if (!hostMatches(host, target)) continue;
      if (path && repository !== path && !repository.startsWith(path + '/')) continue;
      found.push({ score: (host.includes('*') ? 0 : 1000) + path.length, cred });
    }
  }
  found.sort((a, b) => b.score - a.score);
  const seen = new Set<string>();
  return found
    .map((f) => f.cred)
    .filter((c) => {
      const k = `${c.username}\0${c.password}`;
      return seen.has(k) ? false : (seen.add(k), true);
    });
}
