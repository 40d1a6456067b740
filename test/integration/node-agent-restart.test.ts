// A node agent that restarts on a node whose profile files are already there (a DaemonSet update, `helm upgrade`)
// must never report fewer files than the node has: the controller labels the node from the report, and a pod the
// scheduler placed just then is rejected by the kubelet when its seccomp label is gone for a moment (seen in the
// chart test: the new agent's first report said "installed 0" because the CSI driver's readiness asked for a sync
// before the agent's caches had listed the profiles). In-process agent against a real apiserver.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { GROUP, NODE_REPORT_PLURAL, VERSION } from '../../src/common/constants.js';
import type { NodeReportObject } from '../../src/model/objects.js';
import { NodeAgent } from '../../src/node-agent/agent.js';
import { startCluster, type TestCluster } from '../cluster/harness.js';
import { applyManifestFiles, waitForCRDsEstablished } from '../cluster/manifests.js';
import { waitFor } from '../cluster/net.js';
import { createProfile, expectedSeccomp } from './profiles.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function initBinary(dir: string): string {
  const real = join(root, 'init-helper', 'build', 'podfence-init');
  if (existsSync(real)) return real;
  const fake = join(dir, 'podfence-init');
  writeFileSync(fake, '#!/bin/sh\necho \'{"landlock_abi":7}\'\n');
  chmodSync(fake, 0o755);
  return fake;
}

describe('a restarting node agent', () => {
  let cluster: TestCluster;
  let kubeletRoot = '';
  let agent: NodeAgent | undefined;

  beforeAll(async () => {
    kubeletRoot = mkdtempSync(join(tmpdir(), 'podfence-kubelet-'));
    cluster = await startCluster({ withControllers: false });
    const crdDir = join(root, 'crds');
    const applied = await applyManifestFiles(cluster.kubeConfig, [
      join(crdDir, 'podfence.dev_sandboxprofiles.yaml'),
      join(crdDir, 'podfence.dev_sandboxnodereports.yaml'),
    ]);
    await waitForCRDsEstablished(
      cluster.kubeConfig,
      applied.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata!.name!),
    );
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await cluster?.stop();
    if (kubeletRoot) rmSync(kubeletRoot, { recursive: true, force: true });
  }, 120_000);

  it('reports the files already on disk in its first report, even when asked to sync before its caches listed', async () => {
    const nodeName = 'restart-agent-node';
    const spec = { preset: 'computation' };
    await cluster.kubeConfig.makeApiClient(CoreV1Api).createNode({ body: { metadata: { name: nodeName } } });
    await createProfile(cluster.kubeConfig, 'restart-agent', spec);
    // What the agent before the restart left on the node.
    const file = expectedSeccomp('restart-agent', spec);
    const dir = join(kubeletRoot, 'seccomp', 'podfence');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file.fileName), file.json);

    const reported: (number | undefined)[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          const rec = JSON.parse(line) as { msg?: string; installed?: number };
          if (rec.msg === 'node report updated') reported.push(rec.installed);
        }
        done();
      },
    });
    agent = new NodeAgent({
      kubeConfig: cluster.kubeConfig,
      nodeName,
      kubeletRoot,
      initBinary: initBinary(kubeletRoot),
      log: pino({ level: 'info' }, sink),
      registry: new Registry(),
      resyncMs: 60_000,
      csiStatus: () => ({ ready: true }),
    });
    // The CSI driver turns ready while the agent starts (src/cli/node-agent.ts: onChange -> refresh).
    const started = agent.start();
    agent.refresh();
    await started;

    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    let report: NodeReportObject | undefined;
    await waitFor(
      async () => {
        report = (await custom
          .getClusterCustomObject({ group: GROUP, version: VERSION, plural: NODE_REPORT_PLURAL, name: nodeName })
          .catch(() => undefined)) as NodeReportObject | undefined;
        return !!report?.status?.installed?.length;
      },
      60_000,
      'the node report lists the file',
    );
    expect(report?.status?.installed?.map((i) => i.file)).toEqual([file.fileName]);
    expect(report?.status?.csi).toEqual({ ready: true });
    // Every report the agent wrote named the file: none said the node had nothing installed.
    expect(reported.length).toBeGreaterThanOrEqual(1);
    expect(reported).toEqual(reported.map(() => 1));
  }, 120_000);
});
