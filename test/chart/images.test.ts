// The images the chart ships, as `npm run images` builds them from the Dockerfiles (scripts/build-images.sh, the
// same cached build the chart's node test and the demo push to their registry): each archive is a multi-arch
// index for linux/amd64 and linux/arm64; every image is labelled, non-root and of its architecture; the amd64
// operator runs `podfence --version` as its image user on a read-only root (bubblewrap), the arm64 one runs its
// Node.js under qemu-user, and the helper is the lone static /podfence-init of its architecture.
// Needs root (buildah). PODFENCE_IMAGES=0 skips it (say so when reporting).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../cluster/repo-root.js';
import { buildShippedImages, type ShippedImages } from '../node/stack-chart.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const enabled = process.env.PODFENCE_IMAGES !== '0' && process.getuid?.() === 0;
const d = enabled ? describe : describe.skip;
const MACHINE: Record<string, string> = { amd64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' };
const UNAME: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64' };

let images: ShippedImages;
let work: string;

/** An image of an OCI archive, unpacked: its config and root filesystem. */
interface Unpacked {
  config: Any;
  root: string;
  layers: number;
}

function blob(dir: string, digest: string): Any {
  return JSON.parse(readFileSync(join(dir, 'blobs', ...digest.split(':')), 'utf8')) as Any;
}

/** Extracts the archive and returns its platform manifests, by architecture. */
function platforms(archive: string, name: string): { dir: string; manifests: Record<string, Any> } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  const top = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Any;
  expect(top.manifests).toHaveLength(1);
  expect(top.manifests[0].annotations?.['org.opencontainers.image.ref.name']).toBe(images.version);
  const index = blob(dir, top.manifests[0].digest);
  expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  const manifests: Record<string, Any> = {};
  for (const m of index.manifests as Any[]) {
    expect(m.platform.os).toBe('linux');
    manifests[m.platform.architecture] = blob(dir, m.digest);
  }
  expect(Object.keys(manifests).sort()).toEqual(['amd64', 'arm64']);
  return { dir, manifests };
}

function unpack(dir: string, manifest: Any, into: string): Unpacked {
  const config = blob(dir, manifest.config.digest);
  mkdirSync(into, { recursive: true });
  for (const l of manifest.layers as Any[]) {
    // Whiteouts would need handling; the images are built by adding files only (checked: none here).
    const listing = execFileSync('tar', ['-tzf', join(dir, 'blobs', ...l.digest.split(':'))], {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
    expect(listing.split('\n').filter((f) => /(^|\/)\.wh\./.test(f))).toEqual([]);
    execFileSync('tar', ['-xzf', join(dir, 'blobs', ...l.digest.split(':')), '-C', into, '--no-same-owner']);
  }
  return { config, root: into, layers: manifest.layers.length };
}

const elfMachine = (file: string) =>
  /Machine:\s+(.+)/.exec(execFileSync('readelf', ['-h', file], { encoding: 'utf8' }))?.[1]?.trim();
const isStatic = (file: string) =>
  !/\b(INTERP|DYNAMIC)\b/.test(execFileSync('readelf', ['-lW', file], { encoding: 'utf8' }));

function expectLabelsAndUser(config: Any, arch: string, title: string): void {
  expect(config.architecture).toBe(arch);
  expect(config.os).toBe('linux');
  const labels = config.config.Labels as Record<string, string>;
  expect(labels['org.opencontainers.image.title']).toBe(title);
  expect(labels['org.opencontainers.image.version']).toBe(images.version);
  expect(labels['org.opencontainers.image.licenses']).toBe('Apache-2.0');
  expect(labels['org.opencontainers.image.source']).toMatch(/\S/);
  expect(labels['org.opencontainers.image.revision']).toMatch(/^([0-9a-f]{40}|unknown)$/);
  const uid = String(config.config.User ?? '').split(':')[0];
  expect(uid).toMatch(/^[1-9][0-9]*$/); // numeric, not 0: runAsNonRoot can verify it
}

d('the shipped images, built from the Dockerfiles', () => {
  beforeAll(async () => {
    images = await buildShippedImages();
    work = mkdtempSync(join(tmpdir(), 'podfence-images-test-'));
  }, 3_600_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('operator: a labelled, non-root image per architecture running Node.js LTS', () => {
    const { dir, manifests } = platforms(images.operator, 'operator');
    for (const arch of ['amd64', 'arm64']) {
      const img = unpack(dir, manifests[arch]!, join(work, `operator-${arch}`));
      expectLabelsAndUser(img.config, arch, 'podfence operator');
      expect(img.config.config.User).toBe('65532:65532');
      expect(img.config.config.Entrypoint).toEqual(['/usr/local/bin/node', '/app/dist/src/cli.js']);
      const node = join(img.root, 'usr/local/bin/node');
      expect(elfMachine(node)).toBe(MACHINE[arch]);
      for (const f of ['usr/local/bin/audit-tap', 'usr/local/bin/busybox']) {
        expect(elfMachine(join(img.root, f))).toBe(MACHINE[arch]);
        expect(isStatic(join(img.root, f))).toBe(true);
      }
      expect(existsSync(join(img.root, 'app/dist/src/cli.js'))).toBe(true);
      expect(existsSync(join(img.root, 'app/proto'))).toBe(true);
      // Production dependencies only, no npm, no shell.
      expect(existsSync(join(img.root, 'app/node_modules/zod'))).toBe(true);
      expect(existsSync(join(img.root, 'app/node_modules/typescript'))).toBe(false);
      expect(existsSync(join(img.root, 'app/node_modules/jest'))).toBe(false);
      expect(existsSync(join(img.root, 'usr/local/lib/node_modules/npm'))).toBe(false);
      expect(existsSync(join(img.root, 'bin/sh'))).toBe(false);
    }
    // Node.js LTS (even major), the pinned version, runs: natively for amd64, under qemu-user for arm64.
    const pins = readFileSync(join(repoRoot(), 'scripts/images/pins.sh'), 'utf8');
    const pinned = /^NODE_VERSION=(\S+)/m.exec(pins)![1]!;
    expect(Number(pinned.split('.')[0]) % 2).toBe(0);
    const arm = join(work, 'operator-arm64');
    const v = spawnSync('qemu-aarch64-static', ['-L', arm, join(arm, 'usr/local/bin/node'), '--version'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(v.stderr).toBe('');
    expect(v.stdout.trim()).toBe(`v${pinned}`);
  }, 900_000);

  test('operator (amd64): `podfence --version` as uid 65532 on a read-only root; its files are root-owned', () => {
    const root = join(work, 'operator-amd64');
    // The image's top-level directories bound read-only over an empty root that is then made read-only too;
    // only /tmp is writable, as with the chart's readOnlyRootFilesystem and its /tmp volume.
    const binds = readdirSync(root).flatMap((e) => ['--ro-bind', join(root, e), `/${e}`]);
    const r = spawnSync(
      'bwrap',
      [
        '--unshare-all',
        '--uid',
        '65532',
        '--gid',
        '65532',
        '--tmpfs',
        '/',
        ...binds,
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '--tmpfs',
        '/tmp',
        '--remount-ro',
        '/',
        '--chdir',
        '/app',
        '--clearenv',
        '--setenv',
        'NODE_ENV',
        'production',
        '/usr/local/bin/node',
        '/app/dist/src/cli.js',
        '--version',
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(images.version);
    expect(r.status).toBe(0);
    // In the image's layers, everything the process runs is owned by root and writable by nobody else.
    const { dir, manifests } = platforms(images.operator, 'operator-owners');
    const entries = (manifests.amd64!.layers as Any[]).flatMap((l) =>
      execFileSync('tar', ['--numeric-owner', '-tvzf', join(dir, 'blobs', ...String(l.digest).split(':'))], {
        encoding: 'utf8',
        maxBuffer: 256 << 20,
      })
        .split('\n')
        .filter((line) => / (\.\/)?(app|usr\/local\/bin)\/\S/.test(line)),
    );
    expect(entries.length).toBeGreaterThan(100);
    // (symlinks: owner only; their mode bits mean nothing)
    const bad = entries.filter((e) => !/^(l\S{9}|[-d]\S{7}[^w]\S*) 0\/0 /.test(e));
    expect(bad).toEqual([]);
  }, 300_000);

  test('init: only the static /podfence-init of each architecture, non-root', () => {
    const { dir, manifests } = platforms(images.init, 'init');
    for (const arch of ['amd64', 'arm64']) {
      const img = unpack(dir, manifests[arch]!, join(work, `init-${arch}`));
      expectLabelsAndUser(img.config, arch, 'podfence init');
      expect(img.config.config.Entrypoint).toEqual(['/podfence-init']);
      expect(readdirSync(img.root)).toEqual(['podfence-init']);
      const bin = join(img.root, 'podfence-init');
      expect(elfMachine(bin)).toBe(MACHINE[arch]);
      expect(isStatic(bin)).toBe(true);
      const run = arch === 'amd64' ? [bin] : ['qemu-aarch64-static', bin];
      const probe = JSON.parse(execFileSync(run[0]!, [...run.slice(1), '--probe'], { encoding: 'utf8' })) as Any;
      expect(probe.arch).toBe(UNAME[arch]);
    }
  }, 300_000);

  test('each archive has its package list beside it', () => {
    const op = readFileSync(images.operator.replace(/\.tar$/, '.packages.txt'), 'utf8');
    const pins = readFileSync(join(repoRoot(), 'scripts/images/pins.sh'), 'utf8');
    expect(op).toContain(`node v${/^NODE_VERSION=(\S+)/m.exec(pins)![1]}`);
    expect(op).toMatch(/^deb libc6:arm64 \S+/m);
    expect(op).toMatch(/^deb libstdc\+\+6:amd64 \S+/m);
    expect(op).toMatch(/^npm zod@\S+ MIT sha512-/m);
    expect(op).not.toMatch(/^npm (jest|typescript)@/m);
    const init = readFileSync(images.init.replace(/\.tar$/, '.packages.txt'), 'utf8');
    expect(init).toContain('src podfence-init');
    expect(init).toMatch(/^deb musl-dev:\S+ \S+/m);
  });
});
