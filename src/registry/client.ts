import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Credential } from './credentials.js';
import { apiHost, formatRef, parseImageRef, type ImageRef } from './reference.js';

/** What the webhook needs from an image: its config's ENTRYPOINT, CMD and USER, and the digest it came from. */
export interface ImageConfigInfo {
  /** Digest of the platform manifest the config was read from. */
  digest: string;
  entrypoint: string[];
  cmd: string[];
  user?: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface RegistryClientOptions {
  /** Whole resolution (all requests) is abandoned after this long. */
  timeoutMs?: number;
  platform?: Platform;
  /** Registries (host:port) spoken to over plain HTTP (like containerd's insecure registries). */
  plainHttp?: string[];
  /** Extra CA certificates (PEM) trusted for registries, on top of Node's defaults. */
  ca?: string;
  /** How long a tag -> digest answer is reused. */
  tagTtlMs?: number;
  /** Entries kept in each cache. */
  cacheSize?: number;
  /** Largest manifest or config accepted. */
  maxBytes?: number;
  /** Milliseconds clock for cache expiry (tags, tokens); tests pass a fake one so TTLs never race real time. */
  now?: () => number;
}

const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const ACCEPT = [...INDEX_TYPES, ...MANIFEST_TYPES].join(', ');

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A small bounded map that forgets its oldest entries (insertion order refreshed on read). */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
}

export class RegistryError extends Error {}

/**
 * A minimal OCI distribution client: manifest (index -> platform manifest), then config blob, with bearer-token
 * and basic auth, digests verified. Configs are cached by manifest digest (immutable); tags are re-resolved after
 * `tagTtlMs`, so a moved tag is seen within that time.
 */
export class RegistryClient {
  private readonly opts: Required<Omit<RegistryClientOptions, 'ca'>> & { ca?: string };
  private readonly byDigest: Lru<ImageConfigInfo>;
  private readonly byTag: Lru<{ digest: string; expires: number }>;
  private readonly tokens = new Lru<{ header: string; expires: number }>(256);
  /** Counters for metrics and tests. */
  readonly stats = { requests: 0, cacheHits: 0 };

  constructor(options: RegistryClientOptions = {}) {
    this.opts = {
      timeoutMs: 5000,
      platform: { os: 'linux', architecture: 'amd64' },
      plainHttp: [],
      tagTtlMs: 60_000,
      cacheSize: 1000,
      maxBytes: 4 * 1024 * 1024,
      now: Date.now,
      ...options,
    };
    this.byDigest = new Lru(this.opts.cacheSize);
    this.byTag = new Lru(this.opts.cacheSize);
  }

  /** Resolves an image's config; `credentials` are tried in order when the registry asks for them. */
  async resolve(
    image: string,
    credentials: Credential[] | ((ref: ImageRef) => Promise<Credential[]>) = [],
  ): Promise<ImageConfigInfo> {
    const ref = parseImageRef(image);
    const platformKey = `${this.opts.platform.os}/${this.opts.platform.architecture}/${this.opts.platform.variant ?? ''}`;
    const tagKey = `${ref.registry}/${ref.repository}:${ref.tag}`;
    let top = ref.digest;
    if (!top) {
      const t = this.byTag.get(tagKey);
      if (t && t.expires > this.opts.now()) top = t.digest;
    }
    if (top) {
      const hit = this.byDigest.get(`${ref.registry}/${ref.repository}@${top}|${platformKey}`);
      if (hit) {
        this.stats.cacheHits++;
        return hit;
      }
    }
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      const session: Session = { ref, credentials, signal };
      const first = await this.getManifest(session, ref.digest ?? ref.tag ?? 'latest');
      if (!ref.digest) this.byTag.set(tagKey, { digest: first.digest, expires: this.opts.now() + this.opts.tagTtlMs });
      let manifest = first;
      if (INDEX_TYPES.includes(first.mediaType ?? '')) {
        const chosen = pickPlatform(first.json, this.opts.platform);
        if (!chosen) {
          const p = this.opts.platform;
          throw new RegistryError(
            `no manifest for platform ${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''} in ${formatRef(ref)}`,
          );
        }
        manifest = await this.getManifest(session, chosen);
      }
      const configDigest = (manifest.json.config as { digest?: unknown } | undefined)?.digest;
      if (typeof configDigest !== 'string') throw new RegistryError(`manifest of ${formatRef(ref)} has no config`);
      const blob = await this.fetchAuthed(session, `/v2/${ref.repository}/blobs/${configDigest}`, '*/*');
      if (blob.status !== 200) throw new RegistryError(`config blob of ${formatRef(ref)}: HTTP ${blob.status}`);
      verifyDigest(blob.body, configDigest, 'config blob');
      const cfg = parseJson(blob.body, 'config blob') as {
        config?: { Entrypoint?: unknown; Cmd?: unknown; User?: unknown };
      };
      const info: ImageConfigInfo = {
        digest: manifest.digest,
        entrypoint: strings(cfg.config?.Entrypoint),
        cmd: strings(cfg.config?.Cmd),
        ...(typeof cfg.config?.User === 'string' && cfg.config.User ? { user: cfg.config.User } : {}),
      };
      this.byDigest.set(`${ref.registry}/${ref.repository}@${first.digest}|${platformKey}`, info);
      return info;
    } catch (err) {
      if (signal.aborted)
        throw new RegistryError(`registry ${ref.registry} did not answer within ${this.opts.timeoutMs} ms`);
      throw err;
    }
  }

  private async getManifest(s: Session, reference: string) {
    const res = await this.fetchAuthed(s, `/v2/${s.ref.repository}/manifests/${reference}`, ACCEPT);
    if (res.status === 404) throw new RegistryError(`${formatRef(s.ref)}: manifest ${reference} not found`);
    if (res.status !== 200) throw new RegistryError(`${formatRef(s.ref)}: manifest ${reference}: HTTP ${res.status}`);
    const digest = 'sha256:' + createHash('sha256').update(res.body).digest('hex');
    const header = res.headers['docker-content-digest'];
    if (reference.includes(':')) verifyDigest(res.body, reference, 'manifest');
    else if (typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new RegistryError(`manifest of ${formatRef(s.ref)}: Docker-Content-Digest ${header} != ${digest}`);
    }
    const json = parseJson(res.body, 'manifest') as Record<string, unknown>;
    const contentType = (String(res.headers['content-type'] ?? '').split(';')[0] ?? '').trim();
    const mediaType = typeof json.mediaType === 'string' ? json.mediaType : contentType;
    if (json.schemaVersion !== 2) throw new RegistryError(`${formatRef(s.ref)}: unsupported manifest schema`);
    return { digest, mediaType: mediaType || (json.manifests ? INDEX_TYPES[0] : MANIFEST_TYPES[0]), json };
  }

  /** GET with the registry's auth dance: anonymous first, then on 401 Bearer (token realm) or Basic. */
  private async fetchAuthed(s: Session, path: string, accept: string): Promise<Response> {
    const host = apiHost(s.ref.registry);
    const base = `${this.opts.plainHttp.includes(s.ref.registry) ? 'http' : 'https'}://${host}`;
    const tokenKey = `${host}|${s.ref.repository}`;
    const cached = this.tokens.get(tokenKey);
    const headers = { accept };
    let res = await this.get(
      base + path,
      { ...headers, ...(cached && cached.expires > this.opts.now() ? { authorization: cached.header } : {}) },
      s.signal,
    );
    if (res.status !== 401) return res;
    const challenge = parseChallenge(String(res.headers['www-authenticate'] ?? ''));
    // Credentials are only looked up (secrets read) once the registry asks for them.
    if (typeof s.credentials === 'function') s.credentials = await s.credentials(s.ref);
    const attempts: (Credential | undefined)[] = [...s.credentials, undefined];
    for (const cred of attempts) {
      let authorization: string | undefined;
      let ttl = 60;
      if (challenge?.scheme === 'bearer') {
        const token = await this.token(challenge.params, s, cred, base);
        if (!token) continue;
        authorization = `Bearer ${token.token}`;
        ttl = token.expiresIn;
      } else if (challenge?.scheme === 'basic' && cred) {
        authorization = basic(cred);
      } else continue;
      res = await this.get(base + path, { ...headers, authorization }, s.signal);
      if (res.status !== 401 && res.status !== 403) {
        this.tokens.set(tokenKey, { header: authorization, expires: this.opts.now() + Math.max(ttl - 10, 5) * 1000 });
        return res;
      }
    }
    throw new RegistryError(
      `${formatRef(s.ref)}: registry refused access (HTTP ${res.status})` +
        (attempts.length > 1 ? ' with every matching imagePullSecret' : '; no imagePullSecret matches this registry'),
    );
  }

  private async token(params: Record<string, string>, s: Session, cred: Credential | undefined, base: string) {
    const realm = params.realm;
    if (!realm) return undefined;
    const url = new URL(realm);
    // Credentials only travel to the registry itself or over TLS.
    const safe = url.protocol === 'https:' || url.host === new URL(base).host;
    if (cred && !safe) return undefined;
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${s.ref.repository}:pull`);
    const res = await this.get(url.toString(), cred ? { authorization: basic(cred) } : {}, s.signal);
    if (res.status !== 200) return undefined;
    const body = parseJson(res.body, 'token') as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    return token ? { token, expiresIn: body.expires_in ?? 60 } : undefined;
  }

  /** One GET with redirects followed by hand: Authorization never crosses to another origin. */
  private async get(url: string, headers: Record<string, string>, signal: AbortSignal, hops = 0): Promise<Response> {
    this.stats.requests++;
    const res = await this.once(url, headers, signal);
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(res.status) && location && hops < 5) {
      const next = new URL(location, url);
      const h = { ...headers };
      if (next.origin !== new URL(url).origin) delete h.authorization;
      return this.get(next.toString(), h, signal, hops + 1);
    }
    return res;
  }

  private once(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const u = new URL(url);
    const mod = u.protocol === 'http:' ? http : https;
    const max = this.opts.maxBytes;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        u,
        {
          method: 'GET',
          headers,
          signal,
          ...(u.protocol === 'https:' && this.opts.ca ? { ca: [...rootCertificates, this.opts.ca] } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > max) req.destroy(new RegistryError(`${u.pathname}: response larger than ${max} bytes`));
            else chunks.push(c);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (err) =>
        reject(err instanceof RegistryError ? err : new RegistryError(`${u.host}: ${err.message}`)),
      );
      req.end();
    });
  }
}

interface Session {
  ref: ImageRef;
  credentials: Credential[] | ((ref: ImageRef) => Promise<Credential[]>);
  signal: AbortSignal;
}

function basic(c: Credential): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

/** `Bearer realm="...",service="...",scope="..."` -> scheme + params. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } | undefined {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[(p[1] ?? '').toLowerCase()] = p[2] ?? p[3] ?? '';
  }
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

/** From an index: the manifest for the platform (exact variant first, then any), never `unknown/unknown`. */
export function pickPlatform(index: Record<string, unknown>, want: Platform): string | undefined {
  const entries = (Array.isArray(index.manifests) ? index.manifests : []) as {
    digest?: string;
    platform?: { os?: string; architecture?: string; variant?: string };
  }[];
  const candidates = entries.filter(
    (e) => typeof e.digest === 'string' && e.platform?.os === want.os && e.platform?.architecture === want.architecture,
  );
  const exact = candidates.find((e) => (e.platform?.variant ?? '') === (want.variant ?? ''));
  return (exact ?? candidates[0])?.digest;
}

function verifyDigest(body: Buffer, digest: string, what: string): void {
  const [alg, hex] = digest.split(':');
  if (alg !== 'sha256' && alg !== 'sha512') throw new RegistryError(`${what}: unsupported digest ${digest}`);
  const got = createHash(alg).update(body).digest('hex');
  if (got !== hex) throw new RegistryError(`${what}: content does not match digest ${digest}`);
}

function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new RegistryError(`${what}: not JSON`);
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
