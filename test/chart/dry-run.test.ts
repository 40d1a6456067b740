// The rendered chart validated by the real kube-apiserver: CRDs applied the documented way, then every object
// created with server-side dry-run (schema, defaults, admission, the CRD schema for the preset profiles), and
// podfence's pods checked by the apiserver's own PodSecurity admission.
import { join } from 'node:path';
import { CHART_DIR, REPO, helm, parseManifests, renderText, type K8sObject } from './helm.js';
import { startChartCluster, type ChartCluster } from './cluster.js';
import { podTemplates } from './pod-security.js';

let k: ChartCluster;
beforeAll(async () => {
  k = await startChartCluster();
}, 180_000);
afterAll(async () => {
  await k?.stop();
});

/** APIs of optional integrations this cluster doesn't serve (no cert-manager, no Prometheus Operator here). */
const NOT_SERVED = ['cert-manager.io/', 'monitoring.coreos.com/'];

function dryRun(text: string): { served: K8sObject[]; notServed: K8sObject[]; out: string } {
  const objs = parseManifests(text);
  const served = objs.filter((o) => !NOT_SERVED.some((g) => o.apiVersion.startsWith(g)));
  const notServed = objs.filter((o) => !served.includes(o));
  // JSON, not YAML: kubectl reads YAML 1.1, where an unquoted `yes` re-serialized by a YAML 1.2 writer is a bool.
  const input = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: served });
  const r = k.kubectl(['apply', '--dry-run=server', '-f', '-'], input);
  if (r.status !== 0) throw new Error(`server-side dry-run refused the chart:\n${r.stderr}`);
  return { served, notServed, out: r.stdout };
}

test('CRD install/upgrade step: `helm show crds | kubectl apply --server-side` and the CRDs become Established', () => {
  const crds = helm(['show', 'crds', CHART_DIR]);
  expect(crds.status).toBe(0);
  expect(
    parseManifests(crds.stdout)
      .map((o) => o.metadata.name)
      .sort(),
  ).toEqual(['sandboxadmissionparams.podfence.dev', 'sandboxnodereports.podfence.dev', 'sandboxprofiles.podfence.dev']);
  k.kubectlOk(['apply', '--server-side', '--field-manager=podfence-crds', '-f', '-'], crds.stdout);
  k.kubectlOk([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/sandboxprofiles.podfence.dev',
    'crd/sandboxnodereports.podfence.dev',
    'crd/sandboxadmissionparams.podfence.dev',
  ]);
});

describe.each([
  ['default values', 'pf-default', []],
  [
    'non-default values (cert-manager, ServiceMonitor, k0s kubelet dir, ...)',
    'pf-custom',
    ['-f', join(REPO, 'test/chart/values-nondefault.yaml')],
  ],
  ['cert-manager with its own CA issuer', 'pf-certmgr', ['--set', 'webhook.certs.mode=cert-manager']],
  [
    'no node agent, no presets, no validation webhook',
    'pf-minimal',
    ['--set', 'nodeAgent.enabled=false,presets.enabled=false,webhook.validation.enabled=false'],
  ],
])('server-side dry-run with %s', (_label, namespace, flags) => {
  test('the apiserver accepts every object', () => {
    k.kubectlOk(['create', 'namespace', namespace]);
    const { served, notServed, out } = dryRun(renderText({ namespace, flags }));
    // kubectl reports each object it would create: all of them, none skipped.
    const reported = out
      .trim()
      .split('\n')
      .filter((l) => l.includes('(server dry run)'));
    expect(reported).toHaveLength(served.length);
    // What this cluster can't validate is only the optional integrations' kinds.
    expect(
      [...new Set(notServed.map((o) => o.kind))].every((kind) =>
        ['Certificate', 'Issuer', 'ServiceMonitor'].includes(kind),
      ),
    ).toBe(true);
  });
});

describe("Pod Security admission (the apiserver's own)", () => {
  const podsOf = (namespace: string) =>
    Object.fromEntries(
      // Init delivery: the unprivileged node agent (csi delivery runs it privileged, see docs/install.md).
      podTemplates(
        parseManifests(renderText({ namespace: 'podfence-system', values: { helperDelivery: 'init' } })),
      ).map((t) => [
        t.owner,
        JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace }, spec: t.spec }),
      ]),
    );

  beforeAll(() => {
    for (const level of ['restricted', 'baseline']) {
      k.kubectlOk(['create', 'namespace', `psa-${level}`]);
      k.kubectlOk(['label', 'namespace', `psa-${level}`, `pod-security.kubernetes.io/enforce=${level}`]);
    }
  });

  test('controller and webhook pods are admitted under "restricted"', () => {
    const pods = podsOf('psa-restricted');
    for (const owner of ['Deployment/podfence-controller', 'Deployment/podfence-webhook']) {
      const r = k.kubectl(['create', '--dry-run=server', '-f', '-'], pods[owner]);
      expect([owner, r.status, r.stderr]).toEqual([owner, 0, '']);
    }
  });

  test('the node agent fails "restricted" only for its hostPath and its CHOWN-only root init step', () => {
    const r = k.kubectl(
      ['create', '--dry-run=server', '-f', '-'],
      podsOf('psa-restricted')['DaemonSet/podfence-node-agent'],
    );
    expect(r.status).not.toBe(0);
    const msg = r.stderr;
    expect(msg).toContain('violates PodSecurity "restricted:latest"');
    // The complete list the apiserver gives, nothing more.
    const violations = /violates PodSecurity "restricted:latest": (.*)$/m.exec(msg)![1]!;
    expect(
      violations
        .split(/, (?=[a-z])/)
        .map((s) => s.replace(/ \(.*$/, ''))
        .sort(),
    ).toEqual(['restricted volume types', 'runAsNonRoot != true', 'runAsUser=0', 'unrestricted capabilities'].sort());
    expect(msg).toContain('volume "seccomp" uses restricted volume type "hostPath"');
    expect(msg).toContain('container "seccomp-dir-owner" must not include "CHOWN"');
  });

  test('under "baseline" the node agent\'s only violation is the hostPath', () => {
    const r = k.kubectl(
      ['create', '--dry-run=server', '-f', '-'],
      podsOf('psa-baseline')['DaemonSet/podfence-node-agent'],
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/violates PodSecurity "baseline:latest": hostPath volumes \(volume "seccomp"\)$/m);
  });
});
