import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';

/** PEM certificate and PKCS#8 key. */
export interface CertPair {
  cert: string;
  key: string;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/**
 * @peculiar/x509 loads tsyringe, which refuses to start without a Reflect metadata polyfill. It only needs the
 * four functions below (used for its own decorators), so a few lines stand in for the reflect-metadata package.
 */
function reflectShim(): void {
  const R = Reflect as unknown as Record<string, unknown>;
  if (typeof R.getMetadata === 'function') return;
  const store = new WeakMap<object, Map<string, Map<unknown, unknown>>>();
  const slot = (t: object, k: unknown) => {
    let m = store.get(t);
    if (!m) store.set(t, (m = new Map()));
    let n = m.get(String(k));
    if (!n) m.set(String(k), (n = new Map()));
    return n;
  };
  const getOwn = (mk: unknown, t: object, k?: unknown) => store.get(t)?.get(String(k))?.get(mk);
  R.defineMetadata = (mk: unknown, v: unknown, t: object, k?: unknown) => void slot(t, k).set(mk, v);
  R.getOwnMetadata = getOwn;
  R.getMetadata = (mk: unknown, t: object, k?: unknown) => {
    for (let o: object | null = t; o; o = Object.getPrototypeOf(o) as object | null) {
      const v = getOwn(mk, o, k);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  R.hasMetadata = (mk: unknown, t: object, k?: unknown) => (R.getMetadata as typeof getOwn)(mk, t, k) !== undefined;
}

async function x509lib() {
  reflectShim();
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  return x509;
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f; // positive
  return b.toString('hex');
}

/** A self-signed ECDSA P-256 CA. */
export async function createCA(commonName: string, days: number): Promise<CertPair> {
  const x509 = await x509lib();
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + days * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** A serving certificate for `dnsNames`/`ipAddresses`, signed by `ca`. */
export async function issueServingCert(
  ca: CertPair,
  opts: { commonName: string; dnsNames: string[]; ipAddresses?: string[]; days: number },
): Promise<CertPair> {
  const x509 = await x509lib();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.key).export({ format: 'der', type: 'pkcs8' }),
    ALG,
    false,
    ['sign'],
  );
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.commonName}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(Math.min(now + opts.days * DAY, caCert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** Milliseconds until the (first) certificate in `pem` expires; negative when expired or unreadable. */
export function msUntilExpiry(pem: string, now = Date.now()): number {
  try {
    return new Date(new X509Certificate(pem).validTo).getTime() - now;
  } catch {
    return -1;
  }
}

/** Whether `leaf` is signed by `ca` and names `dnsName`. */
export function certMatches(leaf: string, ca: string, dnsName: string): boolean {
  try {
    const c = new X509Certificate(leaf);
    return c.checkIssued(new X509Certificate(ca)) && (c.subjectAltName ?? '').split(', ').includes(`DNS:${dnsName}`);
  } catch {
    return false;
  }
}
