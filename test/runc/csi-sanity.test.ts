// The kubernetes-csi conformance checker (`csi-sanity`, pinned, built once into ~/.cache/podfence by
// test/csi/build-csi-sanity.sh) against podfence's CSI node plugin on its real unix socket. The plugin has no
// controller service, so the tests that provision a volume with CreateVolume are skipped by csi-sanity itself or by
// name below; what runs is every Identity and Node check for a node-only plugin (capabilities, info, argument errors).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CsiPlugin } from '../../src/node-agent/csi/plugin.js';

const suite = process.getuid?.() === 0 ? describe : describe.skip;
// Need CreateVolume (a controller service) to get a volume to publish; podfence's volume is inline-only.
const NEEDS_CONTROLLER = ['should remove target path'];

suite('csi-sanity against the CSI node plugin', () => {
  let root: string;
  let plugin: CsiPlugin;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pf-sanity-'));
    const helper = join(root, 'helper');
    writeFileSync(helper, '#!/bin/sh\n');
    chmodSync(helper, 0o755);
    mkdirSync(join(root, 'pods'));
    plugin = new CsiPlugin({
      nodeName: 'sanity-node',
      kubeletRoot: root,
      helperBinary: helper,
      log: pino({ level: 'silent' }),
      register: false,
    });
    await plugin.start();
  });

  afterAll(async () => {
    await plugin?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('passes every check that applies to a node-only plugin', async () => {
    const bin = execFileSync('bash', [join(process.cwd(), 'test', 'csi', 'build-csi-sanity.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 1_200_000,
    })
      .trim()
      .split('\n')
      .pop()!;
    const args = [
      `--csi.endpoint=${plugin.paths.csiSocket}`,
      `--csi.mountdir=${join(root, 'pods', 'sanity-target')}`,
      `--csi.stagingdir=${join(root, 'sanity-staging')}`,
      // Identity and Node only: the Controller suites fail at their first ControllerGetCapabilities otherwise.
      '--ginkgo.focus=Identity Service|Node Service',
      `--ginkgo.skip=${NEEDS_CONTROLLER.join('|')}`,
      '--ginkgo.no-color',
      '--ginkgo.v',
    ];
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('close', (c) => resolve({ code: c, out }));
    });
    const summary = /Ran (\d+) of (\d+) Specs[\s\S]*?(\d+) Passed \| (\d+) Failed/.exec(out);
    if (code !== 0 || !summary) throw new Error(`csi-sanity exited ${code}:\n${out.slice(-6000)}`);
    expect(Number(summary[4])).toBe(0);
    // It really ran the Identity and Node checks (not everything skipped).
    expect(Number(summary[1])).toBeGreaterThanOrEqual(10);
    expect(out).toMatch(/NodePublishVolume should fail when no volume capability is provided/);
    expect(out).toMatch(/GetPluginInfo should return appropriate information/);
  }, 1_300_000);
});
