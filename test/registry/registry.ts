// Real image registries for tests: Debian's `docker-registry` (distribution 2.8) on loopback, plain HTTP or TLS,
// public or behind htpasswd basic auth, holding images built from local files with umoci and pushed with skopeo.
// Used by the webhook's registry and integration tests; the e2e suite may use it too.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCA, issueServingCert } from '../../src/certs/issue.js';
import { freePort, waitFor } from '../cluster/net.js';
import { logTail, startProcess, type ManagedProcess } from '../cluster/processes.js';

const run = promisify(execFile);

export interface RegistryOptions {
  /** Require htpasswd basic auth with these credentials. */
  auth?: { username: string; password: string };
  /** Serve HTTPS with a fresh CA (see `caPem`). */
  tls?: boolean;
}

export interface TestImage {
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  /** Files to put in the image: in-image path -> content. */
  files?: Record<string, string>;
  architecture?: string;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of image references. */
  hostPort: string;
  /** PEM of the CA that signed the registry's certificate (TLS only). */
  caPem?: string;
  /** Builds an image from `spec` and pushes it as `<hostPort>/<repo>:<tag>`; returns the reference and digest. */
  push(repo: string, tag: string, spec: TestImage): Promise<{ ref: string; digest: string }>;
  /** Pushes an OCI index over already pushed manifests (`platform` per digest). */
  pushIndex(repo: string, tag: string, entries: { digest: string; platform: object }[]): Promise<string>;
  stop(): Promise<void>;
}

function bcrypt(password: string): string {
  // docker-registry only reads bcrypt htpasswd entries; Debian's python3 crypt (libxcrypt) makes them.
  return execFileSync(
    'python3',
    [
      '-W',
      'ignore',
      '-c',
      'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))',
      password,
    ],
    { encoding: 'utf8' },
  ).trim();
}

export async function startTestRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'podfence-registry-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const hostPort = `127.0.0.1:${port}`;
  let caPem: string | undefined;
  const http = [`addr: "${hostPort}"`];
  if (opts.tls) {
    const ca = await createCA('podfence-test-registry-ca', 30);
    const cert = await issueServingCert(ca, {
      commonName: '127.0.0.1',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      days: 30,
    });
    writeFileSync(join(dir, 'tls.crt'), cert.cert);
    writeFileSync(join(dir, 'tls.key'), cert.key);
    http.push(`tls: { certificate: ${join(dir, 'tls.crt')}, key: ${join(dir, 'tls.key')} }`);
    caPem = ca.cert;
  }
  const lines = [
    'version: 0.1',
    'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
    `http: { ${http.join(', ')} }`,
  ];
  if (opts.auth) {
    writeFileSync(join(dir, 'htpasswd'), `${opts.auth.username}:${bcrypt(opts.auth.password)}\n`);
    lines.push(`auth: { htpasswd: { realm: podfence-test, path: ${join(dir, 'htpasswd')} } }`);
  }
  writeFileSync(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const proc: ManagedProcess = startProcess({
    name: 'registry',
    command: 'docker-registry',
    args: ['serve', join(dir, 'config.yml')],
    dir,
    tiedToParent: true,
  });
  const scheme = opts.tls ? 'https' : 'http';
  await waitFor(
    async () => {
      const r = await runCurl([`${scheme}://${hostPort}/v2/`], caPem, dir);
      return r === 200 || r === 401;
    },
    20_000,
    `the registry answers on ${hostPort} (log ${proc.logPath}:\n${logTail(proc.logPath)})`,
  );
  const creds = opts.auth ? ['--dest-creds', `${opts.auth.username}:${opts.auth.password}`] : [];
  const authHeader = opts.auth
    ? { authorization: 'Basic ' + Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64') }
    : {};
  let n = 0;
  return {
    hostPort,
    caPem,
    async push(repo, tag, spec) {
      const layout = join(dir, `img${n++}`);
      const image = `${layout}:${tag}`;
      await run('umoci', ['init', '--layout', layout]);
      await run('umoci', ['new', '--image', image]);
      const cfg = ['--architecture', spec.architecture ?? 'amd64', '--os', 'linux'];
      if (spec.entrypoint)
        cfg.push(
          ...(spec.entrypoint.length
            ? spec.entrypoint.flatMap((e) => ['--config.entrypoint', e])
            : ['--clear=config.entrypoint']),
        );
      if (spec.cmd)
        cfg.push(...(spec.cmd.length ? spec.cmd.flatMap((c) => ['--config.cmd', c]) : ['--clear=config.cmd']));
      if (spec.user) cfg.push('--config.user', spec.user);
      for (const [path, content] of Object.entries(spec.files ?? {})) {
        const src = join(dir, `file${n++}`);
        writeFileSync(src, content);
        await run('umoci', ['insert', '--image', image, src, path]);
      }
      await run('umoci', ['config', '--image', image, ...cfg]);
      const ref = `${hostPort}/${repo}:${tag}`;
      const digestFile = join(dir, `digest${n++}`);
      await run('skopeo', [
        'copy',
        '--quiet',
        ...(opts.tls ? ['--dest-cert-dir', certDir(dir, caPem)] : ['--dest-tls-verify=false']),
        ...creds,
        '--digestfile',
        digestFile,
        `oci:${image}`,
        `docker://${ref}`,
      ]);
      const { readFileSync } = await import('node:fs');
      return { ref, digest: readFileSync(digestFile, 'utf8').trim() };
    },
    async pushIndex(repo, tag, entries) {
      const manifests = [];
      for (const e of entries) {
        manifests.push({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: e.digest,
          size: await manifestSize(e.digest),
          platform: e.platform,
        });
      }
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests,
      });
      const status = await runCurl(
        [
          '-X',
          'PUT',
          '-H',
          'content-type: application/vnd.oci.image.index.v1+json',
          ...Object.entries(authHeader).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
          '--data-binary',
          body,
          `${scheme}://${hostPort}/v2/${repo}/manifests/${tag}`,
        ],
        caPem,
        dir,
      );
      if (status !== 201) throw new Error(`pushing index ${repo}:${tag}: HTTP ${status}`);
      return `sha256:${createHash('sha256').update(body).digest('hex')}`;

      async function manifestSize(digest: string): Promise<number> {
        const out = await run('curl', [
          '-sS',
          ...(caPem ? ['--cacert', join(certDir(dir, caPem), 'ca.crt')] : []),
          ...Object.entries(authHeader).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
          '-H',
          'accept: application/vnd.oci.image.manifest.v1+json',
          `${scheme}://${hostPort}/v2/${repo}/manifests/${digest}`,
        ]);
        return Buffer.byteLength(out.stdout);
      }
    },
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A directory with the CA as `ca.crt` (skopeo's --cert-dir layout). */
function certDir(dir: string, caPem: string | undefined): string {
  const d = join(dir, 'certs');
  mkdirSync(d, { recursive: true });
  if (caPem) writeFileSync(join(d, 'ca.crt'), caPem);
  return d;
}

/** HTTP status of a curl request (0 when it fails to connect). */
async function runCurl(args: string[], caPem: string | undefined, dir: string): Promise<number> {
  try {
    const { stdout } = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      ...(caPem ? ['--cacert', join(certDir(dir, caPem), 'ca.crt')] : []),
      ...args,
    ]);
    return Number(stdout);
  } catch {
    return 0;
  }
}
