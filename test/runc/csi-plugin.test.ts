// podfence's CSI node plugin over its real unix sockets with real bind mounts (root, no cluster): a gRPC client
// plays the kubelet (registration, publish, unpublish) against a temp "kubelet root".
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  chmodSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseMountInfo, mountPointsUnder } from '../../src/node-agent/csi/mountinfo.js';
import { CsiPlugin } from '../../src/node-agent/csi/plugin.js';
import { loadServices } from '../../src/node-agent/csi/proto.js';

const suite = process.getuid?.() === 0 ? describe : describe.skip;

type Client = grpc.Client &
  Record<string, (req: unknown, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void>;
const call = <T = Record<string, unknown>>(c: Client, method: string, req: unknown = {}) =>
  new Promise<T>((resolve, reject) => c[method]!(req, (err, res) => (err ? reject(err) : resolve(res as T))));
const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return grpc.status[(err as grpc.ServiceError).code];
  }
};

suite('CSI node plugin with real mounts', () => {
  let root: string;
  let plugin: CsiPlugin;
  let node: Client;
  let identity: Client;
  let reg: Client;
  let helper: string;
  const podDir = (uid: string) => join(root, 'pods', uid, 'volumes', 'kubernetes.io~csi', 'podfence');
  const request = (uid: string) => ({
    volume_id: `csi-${uid}`,
    target_path: join(podDir(uid), 'mount'),
    readonly: true,
    volume_capability: { mount: { fs_type: '' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
    volume_context: { 'csi.storage.k8s.io/ephemeral': 'true', 'csi.storage.k8s.io/pod.uid': uid },
  });
  const mountsBelow = (dir: string) =>
    mountPointsUnder(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')), dir);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pf-csi-'));
    helper = join(root, 'podfence-init.build');
    writeFileSync(helper, '#!/bin/sh\necho helper v1\n');
    chmodSync(helper, 0o755);
    plugin = new CsiPlugin({
      nodeName: 'node-a',
      kubeletRoot: root,
      helperBinary: helper,
      log: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    await plugin.start();
    const { clients } = loadServices();
    node = new clients.Node(`unix://${plugin.paths.csiSocket}`, grpc.credentials.createInsecure()) as unknown as Client;
    identity = new clients.Identity(
      `unix://${plugin.paths.csiSocket}`,
      grpc.credentials.createInsecure(),
    ) as unknown as Client;
    reg = new clients.Registration(
      `unix://${plugin.paths.registrationSocket}`,
      grpc.credentials.createInsecure(),
    ) as unknown as Client;
  });

  afterAll(async () => {
    for (const c of [node, identity, reg]) c?.close();
    await plugin?.stop();
    for (const mp of mountsBelow(root).reverse()) execFileSync('umount', ['-l', mp]);
    rmSync(root, { recursive: true, force: true });
  });

  it('registers like a CSI plugin and becomes ready when the kubelet confirms', async () => {
    expect(plugin.health()).toMatch(/not registered/);
    const info = await call(reg, 'GetInfo');
    expect(info).toEqual({
      type: 'CSIPlugin',
      name: 'podfence.dev',
      endpoint: plugin.paths.csiSocket,
      supported_versions: ['1.0.0'],
    });
    await call(reg, 'NotifyRegistrationStatus', { plugin_registered: false, error: 'no' });
    expect(plugin.health()).toMatch(/refused.*no/);
    await call(reg, 'NotifyRegistrationStatus', { plugin_registered: true });
    expect(plugin.health()).toBeUndefined();
  });

  it('answers Identity and the Node info calls', async () => {
    expect(await call(identity, 'GetPluginInfo')).toMatchObject({ name: 'podfence.dev' });
    expect(await call(identity, 'Probe')).toEqual({ ready: { value: true } });
    expect(await call(identity, 'GetPluginCapabilities')).toEqual({ capabilities: [] });
    expect(await call(node, 'NodeGetCapabilities')).toEqual({ capabilities: [] });
    expect(await call(node, 'NodeGetInfo')).toMatchObject({ node_id: 'node-a' });
  });

  it('publishes the helper read-only, idempotently, and unpublishes without a trace', async () => {
    mkdirSync(podDir('u1'), { recursive: true });
    const target = join(podDir('u1'), 'mount');
    await call(node, 'NodePublishVolume', request('u1'));
    expect(readFileSync(join(target, 'podfence-init'), 'utf8')).toContain('helper v1');
    expect(execFileSync(join(target, 'podfence-init')).toString()).toBe('helper v1\n');
    // Not even root can change it through the mount.
    expect(() => writeFileSync(join(target, 'podfence-init'), 'evil')).toThrow(/EROFS/);
    expect(() => writeFileSync(join(target, 'new'), 'evil')).toThrow(/EROFS/);
    expect(() => chmodSync(join(target, 'podfence-init'), 0o777)).toThrow(/EROFS/);
    const opts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountPoint === target);
    expect(opts).toHaveLength(1);
    expect(opts[0]!.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev']));

    await call(node, 'NodePublishVolume', request('u1')); // replayed by the kubelet
    expect(mountsBelow(root).filter((m) => m === target)).toHaveLength(1);

    await call(node, 'NodeUnpublishVolume', { volume_id: 'csi-u1', target_path: target });
    expect(existsSync(target)).toBe(false);
    expect(mountsBelow(root)).toEqual([]);
    await call(node, 'NodeUnpublishVolume', { volume_id: 'csi-u1', target_path: target }); // idempotent
  });

  it('refuses bad requests with INVALID_ARGUMENT and leaves nothing behind', async () => {
    mkdirSync(podDir('u2'), { recursive: true });
    expect(await code(call(node, 'NodePublishVolume', { ...request('u2'), readonly: false }))).toBe('INVALID_ARGUMENT');
    expect(
      await code(call(node, 'NodePublishVolume', { ...request('u2'), target_path: join(root, 'elsewhere') })),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await code(
        call(node, 'NodePublishVolume', {
          ...request('u2'),
          volume_context: { 'csi.storage.k8s.io/ephemeral': 'false' },
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(readdirSync(podDir('u2'))).toEqual([]);
    expect(await code(call(node, 'NodePublishVolume', request('missing-parent')))).toBe('NOT_FOUND');
  });

  it('refuses a target that is already some other mount', async () => {
    mkdirSync(join(podDir('u3'), 'mount'), { recursive: true });
    const target = join(podDir('u3'), 'mount');
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', target]);
    try {
      expect(await code(call(node, 'NodePublishVolume', request('u3')))).toBe('ALREADY_EXISTS');
    } finally {
      await call(node, 'NodeUnpublishVolume', { volume_id: 'csi-u3', target_path: target });
    }
    expect(existsSync(target)).toBe(false);
  });

  it('keeps an old version while a volume shows it, switches new volumes to the new one, then collects it', async () => {
    mkdirSync(podDir('old'), { recursive: true });
    mkdirSync(podDir('new'), { recursive: true });
    await call(node, 'NodePublishVolume', request('old'));
    const v1 = await plugin.store.current();
    writeFileSync(helper, '#!/bin/sh\necho helper v2\n');
    const { version: v2, removed } = await plugin.node.installAndCollect(helper);
    expect(v2).not.toBe(v1);
    expect(removed).toEqual([]);
    await call(node, 'NodePublishVolume', request('new'));
    expect(execFileSync(join(podDir('old'), 'mount', 'podfence-init')).toString()).toBe('helper v1\n');
    expect(execFileSync(join(podDir('new'), 'mount', 'podfence-init')).toString()).toBe('helper v2\n');
    expect([...(await plugin.node.versionsInUse())].sort()).toEqual([v1, v2].sort());
    await call(node, 'NodeUnpublishVolume', { volume_id: 'csi-old', target_path: join(podDir('old'), 'mount') });
    expect(await plugin.collect()).toEqual([v1]);
    expect(await plugin.store.versions()).toEqual([v2]);
    await call(node, 'NodeUnpublishVolume', { volume_id: 'csi-new', target_path: join(podDir('new'), 'mount') });
    expect(mountsBelow(root)).toEqual([]);
  });
});
