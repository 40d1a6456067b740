import { createHash } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { AddressPolicy, registryAllowed, type RegistryAccess } from './access.js';
import type { Credential } from './credentials.js';
import { Limiter } from './limiter.js';
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
  /** Registries images may come from and addresses that may be contacted (src/registry/access.ts); unset: any. */
  access?: RegistryAccess;
  /** Requests in flight at once, over all lookups (each buffers up to maxBytes). */
  maxConcurrent?: number;
  /** Requests waiting for a slot; beyond that a lookup fails at once instead of queueing memory. */
  maxQueued?: number;
  /** Largest ENTRYPOINT + CMD (bytes of JSON) accepted and cached. */
  maxEntrypointBytes?: number;
  /** Where the details of a failed lookup go (the tenant only sees a generic message). */
  log?: { warn(obj: object, msg: string): void };
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
  constructor(private readonly capacity: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  get size(): number {
    return this.map.size;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }
}

/**
 * A lookup failure. `message` is what the tenant sees (in the pod's denial): it never says what answered where;
 * `detail` (logged by the client) does.
 */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Who a cached answer was fetched as: anonymous answers serve everyone, others only the same credential. */
type AuthId = string;
const ANONYMOUS: AuthId = 'anonymous';
function authIdOf(c: Credential | undefined): AuthId {
  return c ? 'cred:' + createHash('sha256').update(`${c.username}\0${c.password}`).digest('hex') : ANONYMOUS;
}

/**
 * A minimal OCI distribution client: manifest (index -> platform manifest), then config blob, with bearer-token
 * and basic auth, digests verified. Configs are cached by manifest digest (immutable); tags are re-resolved after
 * `tagTtlMs`, so a moved tag is seen within that time.
 */
export class RegistryClient {
  private readonly opts: Required<Omit<RegistryClientOptions, 'ca' | 'access' | 'log'>> &
    Pick<RegistryClientOptions, 'ca' | 'access' | 'log'>;
  /** Keyed by image, platform and who fetched it (AuthId): a private answer never serves another credential. */
  private readonly byDigest: Lru<ImageConfigInfo & { auth: AuthId }>;
  private readonly byTag: Lru<{ digest: string; expires: number; auth: AuthId }>;
  /** Bearer tokens by host, repository and credential. */
  private readonly tokens = new Lru<{ header: string; expires: number }>(256);
  private readonly limiter: Limiter;
  private readonly addresses: AddressPolicy | undefined;
  /** Counters for metrics and tests. */
  readonly stats = { requests: 0, cacheHits: 0, inFlight: 0, maxInFlight: 0 };

  constructor(options: RegistryClientOptions = {}) {
    this.opts = {
      timeoutMs: 5000,
      platform: { os: 'linux', architecture: 'amd64' },
      plainHttp: [],
      tagTtlMs: 60_000,
      cacheSize: 1000,
      maxBytes: 4 * 1024 * 1024,
      now: Date.now,
      maxConcurrent: 8,
      maxQueued: 256,
      maxEntrypointBytes: 32 * 1024,
      ...options,
    };
    this.byDigest = new Lru(this.opts.cacheSize);
    this.byTag = new Lru(this.opts.cacheSize);
    this.limiter = new Limiter(this.opts.maxConcurrent, this.opts.maxQueued);
    this.addresses = this.opts.access ? new AddressPolicy(this.opts.access.cidrs) : undefined;
  }

  /** Resolves an image's config; `credentials` are tried in order when the registry asks for them. */
  async resolve(
    image: string,
    credentials: Credential[] | ((ref: ImageRef) => Promise<Credential[]>) = [],
  ): Promise<ImageConfigInfo> {
    const ref = parseImageRef(image);
    if (this.opts.access && !registryAllowed(ref.registry, this.opts.access.registries)) {
      throw new RegistryError(
        `registry ${ref.registry} is not one the webhook may read (the cluster admin allows: ` +
          `${this.opts.access.registries.join(', ') || 'none'})`,
      );
    }
    const session: Session = { ref, credentials, signal: AbortSignal.timeout(this.opts.timeoutMs) };
    try {
      const hit = await this.cached(session);
      if (hit) {
        this.stats.cacheHits++;
        return hit;
      }
      return await this.fetchConfig(session);
    } catch (err) {
      const e = this.publicError(session, err);
      this.opts.log?.warn({ image, registry: ref.registry, err: e.detail ?? e.message }, 'image lookup failed');
      throw e;
    }
  }

  /** Entries in each cache (bounded by cacheSize; tokens by 256). */
  cacheEntries(): { configs: number; tags: number; tokens: number } {
    return { configs: this.byDigest.size, tags: this.byTag.size, tokens: this.tokens.size };
  }

  private platformKey(): string {
    return `${this.opts.platform.os}/${this.opts.platform.architecture}/${this.opts.platform.variant ?? ''}`;
  }

  /** A cached answer this caller may see: fetched anonymously, or with one of the caller's own credentials. */
  private async cached(s: Session): Promise<ImageConfigInfo | undefined> {
    const { ref } = s;
    const mine = async (auth: AuthId) =>
      auth === ANONYMOUS || (await this.credentialsOf(s)).some((c) => authIdOf(c) === auth);
    let top = ref.digest;
    if (!top) {
      const t = this.byTag.get(`${ref.registry}/${ref.repository}:${ref.tag}`);
      if (t && t.expires > this.opts.now() && (await mine(t.auth))) top = t.digest;
    }
    if (!top) return undefined;
    const hit = this.byDigest.get(`${ref.registry}/${ref.repository}@${top}|${this.platformKey()}`);
    if (!hit || !(await mine(hit.auth))) return undefined;
    const { auth: _auth, ...info } = hit;
    void _auth;
    return info;
  }

  private async credentialsOf(s: Session): Promise<Credential[]> {
    if (typeof s.credentials === 'function') s.credentials = await s.credentials(s.ref);
    return s.credentials;
  }

  private async fetchConfig(session: Session): Promise<ImageConfigInfo> {
    const { ref } = session;
    const first = await this.getManifest(session, ref.digest ?? ref.tag ?? 'latest');
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
    if (blob.status !== 200) throw unreadable(ref, `config blob: HTTP ${blob.status}`);
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
    const size = Buffer.byteLength(JSON.stringify([info.entrypoint, info.cmd, info.user ?? '']));
    if (size > this.opts.maxEntrypointBytes) {
      throw new RegistryError(
        `${formatRef(ref)}: ENTRYPOINT and CMD are larger than ${this.opts.maxEntrypointBytes} bytes`,
      );
    }
    // The answer is as private as the most private response it was built from.
    const auth = session.auth ?? ANONYMOUS;
    if (!ref.digest) {
      this.byTag.set(`${ref.registry}/${ref.repository}:${ref.tag}`, {
        digest: first.digest,
        expires: this.opts.now() + this.opts.tagTtlMs,
        auth,
      });
    }
    this.byDigest.set(`${ref.registry}/${ref.repository}@${first.digest}|${this.platformKey()}`, { ...info, auth });
    return info;
  }

  /** What the tenant may read of a failure: categories, never addresses, status codes or socket errors. */
  private publicError(s: Session, err: unknown): RegistryError {
    const ref = formatRef(s.ref);
    if (s.signal.aborted) {
      return new RegistryError(
        `registry ${s.ref.registry} did not answer within ${this.opts.timeoutMs} ms`,
        String(err),
      );
    }
    if (err instanceof RegistryError) return err;
    const e = err as { code?: string; message?: string };
    if (e?.code === 'EPODFENCE_QUEUE') return new RegistryError(`${ref}: too many image lookups at once, try again`);
    if (/certificate|self.signed|unable to verify/i.test(e?.message ?? '')) {
      return new RegistryError(`${ref}: the registry's TLS certificate is not trusted`, e?.message);
    }
    return unreadable(s.ref, e?.message ?? String(err));
  }

  private async getManifest(s: Session, reference: string) {
    const res = await this.fetchAuthed(s, `/v2/${s.ref.repository}/manifests/${reference}`, ACCEPT);
    if (res.status === 404) throw new RegistryError(`${formatRef(s.ref)}: manifest ${reference} not found`);
    if (res.status !== 200) throw unreadable(s.ref, `manifest ${reference}: HTTP ${res.status}`);
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

  /**
   * GET with the registry's auth dance: anonymous first (or as the credential this lookup already used), then on
   * 401 Bearer (token realm) or Basic with each credential. Tokens are cached per credential.
   */
  private async fetchAuthed(s: Session, path: string, accept: string): Promise<Response> {
    const host = apiHost(s.ref.registry);
    const base = `${this.isPlainHttp(s.ref.registry) ? 'http' : 'https'}://${host}`;
    const tokenKey = (auth: AuthId) => `${host}|${s.ref.repository}|${auth}`;
    const cachedHeader = (auth: AuthId) => {
      const t = this.tokens.get(tokenKey(auth));
      return t && t.expires > this.opts.now() ? t.header : undefined;
    };
    const headers = { accept };
    const first = cachedHeader(s.auth ?? ANONYMOUS);
    let res = await this.get(base + path, { ...headers, ...(first ? { authorization: first } : {}) }, s.signal);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(String(res.headers['www-authenticate'] ?? ''));
    // Credentials are only looked up (secrets read) once the registry asks for them.
    const attempts: (Credential | undefined)[] = [...(await this.credentialsOf(s)), undefined];
    for (const cred of attempts) {
      const auth = authIdOf(cred);
      let authorization = cachedHeader(auth);
      let ttl = 60;
      if (!authorization) {
        if (challenge?.scheme === 'bearer') {
          const token = await this.token(challenge.params, s, cred, base);
          if (!token) continue;
          authorization = `Bearer ${token.token}`;
          ttl = token.expiresIn;
        } else if (challenge?.scheme === 'basic' && cred) {
          authorization = basic(cred);
        } else continue;
      }
      res = await this.get(base + path, { ...headers, authorization }, s.signal);
      if (res.status !== 401 && res.status !== 403) {
        this.tokens.set(tokenKey(auth), {
          header: authorization,
          expires: this.opts.now() + Math.max(ttl - 10, 5) * 1000,
        });
        if (cred) s.auth = auth;
        return res;
      }
    }
    throw new RegistryError(
      `${formatRef(s.ref)}: registry refused access (HTTP ${res.status})` +
        (attempts.length > 1 ? ' with every matching imagePullSecret' : '; no imagePullSecret matches this registry'),
    );
  }

  private isPlainHttp(registry: string): boolean {
    return this.opts.plainHttp.includes(registry);
  }

  private async token(params: Record<string, string>, s: Session, cred: Credential | undefined, base: string) {
    const realm = params.realm;
    if (!realm) return undefined;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      return undefined;
    }
    // Tokens come from the registry itself or over TLS (plain HTTP only to a plain-HTTP registry's own host).
    if (url.protocol !== 'https:' && url.origin !== new URL(base).origin) return undefined;
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${s.ref.repository}:pull`);
    const res = await this.get(url.toString(), cred ? { authorization: basic(cred) } : {}, s.signal);
    if (res.status !== 200) return undefined;
    const body = parseJson(res.body, 'token') as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const token = body.token ?? body.access_token;
    // A token is a header value: bounded, printable (a hostile realm could answer megabytes to fill the cache).
    if (typeof token !== 'string' || token.length > 8192 || !/^[\x21-\x7e]+$/.test(token)) return undefined;
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    return { token, expiresIn: Math.min(expiresIn, 3600) };
  }

  /**
   * One GET with redirects followed by hand: Authorization never crosses to another origin, and a redirect may
   * leave a plain-HTTP registry only for HTTPS.
   */
  private async get(url: string, headers: Record<string, string>, signal: AbortSignal, hops = 0): Promise<Response> {
    const res = await this.once(url, headers, signal);
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(res.status) && location && hops < 5) {
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw unreadableAt(url, `redirect to an invalid location`);
      }
      const from = new URL(url);
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && next.origin === from.origin)) {
        throw unreadableAt(url, `redirect to ${next.protocol} ${next.host} refused`);
      }
      const h = { ...headers };
      if (next.origin !== from.origin) delete h.authorization;
      return this.get(next.toString(), h, signal, hops + 1);
    }
    return res;
  }

  /** Hosts whose address is not checked: plain-HTTP registries the admin named (naming one allows its address). */
  private trustedHost(host: string): boolean {
    return this.opts.plainHttp.some((r) => apiHost(r) === host);
  }

  private async once(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const u = new URL(url);
    const guard = this.addresses && !this.trustedHost(u.host) ? this.addresses : undefined;
    const hostname = u.hostname.replace(/^\[|\]$/g, '');
    if (guard && isIP(hostname)) {
      const why = guard.refuse(hostname);
      if (why) throw unreadableAt(url, why);
    }
    const release = await this.limiter.acquire(signal);
    this.stats.requests++;
    this.stats.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
    try {
      return await this.request(u, headers, signal, guard);
    } finally {
      this.stats.inFlight--;
      release();
    }
  }

  private request(u: URL, headers: Record<string, string>, signal: AbortSignal, guard?: AddressPolicy) {
    const mod = u.protocol === 'http:' ? http : https;
    const max = this.opts.maxBytes;
    return new Promise<Response>((resolve, reject) => {
      const req = mod.request(
        u,
        {
          method: 'GET',
          headers,
          signal,
          ...(guard ? { lookup: guardedLookup(guard) } : {}),
          ...(u.protocol === 'https:' && this.opts.ca ? { ca: [...rootCertificates, this.opts.ca] } : {}),
        },
        (res) => {
          const declared = Number(res.headers['content-length'] ?? 0);
          if (declared > max) {
            req.destroy(unreadableAt(u.toString(), `response of ${declared} bytes, more than ${max}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > max) req.destroy(unreadableAt(u.toString(), `response larger than ${max} bytes`));
            else chunks.push(c);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (err) => reject(err));
      req.end();
    });
  }
}

/** A `lookup` for http.request that refuses a host when any of its addresses may not be contacted. */
function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses as unknown as LookupAddress[];
      for (const a of list) {
        const why = policy.refuse(a.address);
        if (why) return callback(new Error(`${hostname} resolves to ${a.address}: ${why}`), '');
      }
      if (list.length === 0) return callback(new Error(`${hostname}: no address`), '');
      if (options.all) callback(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** The generic failure the tenant sees; the detail goes to the log. */
function unreadable(ref: ImageRef, detail: string): RegistryError {
  return new RegistryError(
    `${formatRef(ref)}: the registry's answer could not be read (details in the podfence webhook's log)`,
    detail,
  );
}

function unreadableAt(url: string, detail: string): RegistryError {
  return new RegistryError(
    `the registry's answer could not be read (details in the podfence webhook's log)`,
    `${url}: ${detail}`,
  );
}

interface Session {
  ref: ImageRef;
  credentials: Credential[] | ((ref: ImageRef) => Promise<Credential[]>);
  signal: AbortSignal;
  /** Set once a response needed one of the caller's credentials: the answer is then private to it. */
  auth?: AuthId;
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
    throw new RegistryError(`${what}: the registry's answer is not JSON`);
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
