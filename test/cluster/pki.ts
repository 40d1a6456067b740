// Certificates for test clusters and test webhook servers, made with the openssl command line (node:crypto cannot
// issue certificates, and @peculiar/x509 would need a reflect-metadata polyfill). ECDSA P-256 everywhere: fast to
// generate and accepted by every Kubernetes component.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPairPem {
  /** PKCS#8 private key, PEM. */
  keyPem: string;
  /** SPKI public key, PEM. */
  publicKeyPem: string;
}

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** Organizations: Kubernetes reads them as the user's groups. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'both';
  days?: number;
}

const CURVE = ['-pkeyopt', 'ec_paramgen_curve:P-256'];

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('missing tool: openssl (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? String(err)}`);
  }
}

/** Runs `fn` in a private temporary directory, removed afterwards (it holds private keys). */
function inTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'podfence-pki-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `-subj` syntax: /CN=.../O=...; `/`, `+` and `\` inside values are escaped. */
export function subject(commonName: string, organizations: string[] = []): string {
  const esc = (v: string) => v.replace(/([/+\\])/g, '\\$1');
  return `/CN=${esc(commonName)}` + organizations.map((o) => `/O=${esc(o)}`).join('');
}

/** The x509v3 extension section of a leaf certificate. */
export function leafExtensions(opts: IssueOptions): string {
  const eku = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[opts.usage];
  const sans = [...(opts.dnsNames ?? []).map((d) => `DNS:${d}`), ...(opts.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
  return [
    '[v3]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    `extendedKeyUsage = ${eku}`,
    'authorityKeyIdentifier = keyid',
    ...(sans.length > 0 ? [`subjectAltName = ${sans.join(', ')}`] : []),
    '',
  ].join('\n');
}

/** A key pair (e.g. the service-account signing key). */
export async function createKeyPair(): Promise<KeyPairPem> {
  return inTempDir((dir) => {
    openssl(['genpkey', '-algorithm', 'EC', ...CURVE, '-out', 'key.pem'], dir);
    openssl(['pkey', '-in', 'key.pem', '-pubout', '-out', 'pub.pem'], dir);
    return {
      keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
      publicKeyPem: readFileSync(join(dir, 'pub.pem'), 'utf8'),
    };
  });
}

export async function createCA(commonName = 'podfence-test-ca', days = 3650): Promise<CertificateAuthority> {
  return inTempDir((dir) => {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        ...CURVE,
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-subj',
        subject(commonName),
        '-days',
        String(days),
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    return { certPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
  });
}

/** A leaf certificate signed by `ca`. */
export async function issueCert(ca: CertificateAuthority, opts: IssueOptions): Promise<IssuedCert> {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ext.cnf'), leafExtensions(opts));
    openssl(
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        ...CURVE,
        '-nodes',
        '-keyout',
        'leaf.key',
        '-out',
        'leaf.csr',
        '-subj',
        subject(opts.commonName, opts.organizations),
      ],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(15).toString('hex')}`,
        '-days',
        String(opts.days ?? 365),
        '-extfile',
        'ext.cnf',
        '-extensions',
        'v3',
        '-out',
        'leaf.crt',
      ],
      dir,
    );
    return {
      certPem: readFileSync(join(dir, 'leaf.crt'), 'utf8'),
      keyPem: readFileSync(join(dir, 'leaf.key'), 'utf8'),
    };
  });
}
