// `helm install` into a real control plane (etcd + kube-apiserver; no node: see the e2e notes in docs/install.md),
// then what the install must mean: the webhook configurations really route opted-in namespaces (and only those)
// to podfence, the ServiceAccounts can do what each component needs and nothing more, the self-managed certificate
// data survives `helm upgrade`, a changed value reaches the cluster, the CRD upgrade step works, `helm uninstall`
// leaves only the CRDs, and a second install into another namespace works.
import { execFileSync } from 'node:child_process';
import { CHART_DIR, helm, type RunResult } from './helm.js';
import { startChartCluster, type ChartCluster } from './cluster.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let k: ChartCluster;
let h: (args: string[]) => RunResult;
beforeAll(async () => {
  k = await startChartCluster();
  h = (args) => helm([...args, '--kubeconfig', k.cluster.kubeconfigPath]);
}, 180_000);
afterAll(async () => {
  await k?.stop();
});

const NS = 'podfence-a';
const REL = 'pf';
const sa = (component: string, ns = NS, rel = REL) => `system:serviceaccount:${ns}:${rel}-podfence-${component}`;

function helmOk(args: string[]): string {
  const r = h(args);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A pod created with server-side dry-run (admission runs, nothing is stored). */
function tryPod(namespace: string): RunResult {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app', namespace },
    spec: { containers: [{ name: 'app', image: 'localhost/podfence/busybox:dev', command: ['sleep', '1'] }] },
  };
  return k.kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
}

/** `resource[/name][:subresource]` as `kubectl auth can-i` takes them. */
/**
 * `tryPod` until `done` holds (at most 90 s, generous for a loaded machine): the apiserver's admission plugins
 * watch webhook configurations and policies, so a change takes effect a moment after the API call that made it.
 */
function tryPodUntil(namespace: string, done: (r: RunResult) => boolean): RunResult {
  let r = tryPod(namespace);
  for (const end = Date.now() + 90_000; !done(r) && Date.now() < end;) {
    execFileSync('sleep', ['0.5']);
    r = tryPod(namespace);
  }
  return r;
}

function canI(as: string, verb: string, resource: string, namespace?: string): boolean {
  const [res, sub] = resource.split(':');
  const r = k.kubectl([
    'auth',
    'can-i',
    verb,
    res!,
    `--as=${as}`,
    ...(sub ? [`--subresource=${sub}`] : []),
    ...(namespace ? ['-n', namespace] : []),
  ]);
  return r.stdout.trim() === 'yes';
}

/** Objects of the release still in the cluster, as kind/name. */
function leftovers(rel: string, ns: string): string[] {
  const namespaced =
    'deployments,daemonsets,services,secrets,serviceaccounts,roles,rolebindings,poddisruptionbudgets,configmaps';
  const cluster =
    'clusterroles,clusterrolebindings,mutatingwebhookconfigurations,validatingadmissionpolicies,validatingadmissionpolicybindings,sandboxprofiles';
  const sel = `app.kubernetes.io/instance=${rel}`;
  const items = [
    ...k.getJson<{ items: Any[] }>(['get', namespaced, '-n', ns, '-l', sel]).items,
    ...k.getJson<{ items: Any[] }>(['get', cluster, '-l', sel]).items,
  ];
  return items.map((o) => `${o.kind}/${o.metadata.name}`);
}

describe('helm install, upgrade, uninstall on a real control plane', () => {
  test('install: every object created, CRDs installed from crds/', () => {
    const out = helmOk(['install', REL, CHART_DIR, '-n', NS, '--create-namespace']);
    expect(out).toContain('STATUS: deployed');
    expect(out).toContain(`kubectl label namespace <your-namespace> podfence.dev/profile=<profile>`);
    k.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd/sandboxprofiles.podfence.dev']);
    expect(leftovers(REL, NS).sort()).toEqual(
      [
        'ClusterRole/pf-podfence-controller',
        'ClusterRole/pf-podfence-node-agent',
        'ClusterRole/pf-podfence-webhook',
        'ClusterRoleBinding/pf-podfence-controller',
        'ClusterRoleBinding/pf-podfence-node-agent',
        'ClusterRoleBinding/pf-podfence-webhook',
        'DaemonSet/pf-podfence-node-agent',
        'Deployment/pf-podfence-controller',
        'Deployment/pf-podfence-webhook',
        'MutatingWebhookConfiguration/pf-podfence',
        'PodDisruptionBudget/pf-podfence-controller',
        'PodDisruptionBudget/pf-podfence-webhook',
        'Role/pf-podfence-controller',
        'Role/pf-podfence-webhook',
        'RoleBinding/pf-podfence-controller',
        'RoleBinding/pf-podfence-webhook',
        'SandboxProfile/computation',
        'SandboxProfile/file-processor',
        'SandboxProfile/network-server',
        'Secret/pf-podfence-webhook-caller',
        'Secret/pf-podfence-webhook-tls',
        'Service/pf-podfence-controller-metrics',
        'Service/pf-podfence-node-agent-metrics',
        'Service/pf-podfence-webhook',
        'Service/pf-podfence-webhook-metrics',
        'ServiceAccount/pf-podfence-controller',
        'ServiceAccount/pf-podfence-node-agent',
        'ServiceAccount/pf-podfence-webhook',
        'ValidatingAdmissionPolicy/pf-podfence-controller-node-labels',
        'ValidatingAdmissionPolicy/pf-podfence-node-agent-own-report',
        'ValidatingAdmissionPolicy/pf-podfence-sandbox-required',
        'ValidatingAdmissionPolicyBinding/pf-podfence-controller-node-labels',
        'ValidatingAdmissionPolicyBinding/pf-podfence-node-agent-own-report',
        'ValidatingAdmissionPolicyBinding/pf-podfence-sandbox-required',
      ].sort(),
    );
  });

  test('the webhooks are registered for opted-in namespaces only (no webhook runs here: Fail refuses, others pass)', () => {
    for (const [ns, label] of [
      ['shop', 'podfence.dev/profile=computation'],
      ['plain', ''],
      ['kube-system', 'podfence.dev/profile=computation'],
    ] as const) {
      if (ns !== 'kube-system') k.kubectlOk(['create', 'namespace', ns]);
      if (label) k.kubectlOk(['label', 'namespace', ns, label, '--overwrite']);
    }
    k.kubectlOk(['label', 'namespace', NS, 'podfence.dev/profile=computation']);
    const refused = tryPodUntil('shop', (r) => r.status !== 0);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('failed calling webhook "pods.podfence.dev"');
    expect(refused.stderr).toContain('https://pf-podfence-webhook.podfence-a.svc:443/mutate');
    // Unlabelled, podfence's own namespace and kube-system: never sent to the webhook, even when labelled.
    for (const ns of ['plain', NS, 'kube-system']) expect([ns, tryPod(ns).status]).toEqual([ns, 0]);
    k.kubectlOk(['label', 'namespace', NS, 'podfence.dev/profile-']);
  });

  test('RBAC: each ServiceAccount can do its job and no more', () => {
    const cases: [string, string, string, string | undefined, boolean][] = [
      // controller
      [sa('controller'), 'patch', 'sandboxprofiles.podfence.dev:status', undefined, true],
      [sa('controller'), 'patch', 'sandboxprofiles.podfence.dev', undefined, true],
      [sa('controller'), 'watch', 'sandboxnodereports.podfence.dev', undefined, true],
      [sa('controller'), 'patch', 'nodes', undefined, true],
      [sa('controller'), 'list', 'pods', undefined, true],
      [sa('controller'), 'create', 'events', 'default', true],
      [sa('controller'), 'create', 'leases.coordination.k8s.io', NS, true],
      [sa('controller'), 'update', 'leases.coordination.k8s.io/pf-podfence-controller', NS, true],
      [sa('controller'), 'update', 'leases.coordination.k8s.io/someone-else', NS, false],
      [sa('controller'), 'create', 'leases.coordination.k8s.io', 'kube-system', false],
      [sa('controller'), 'get', 'secrets', NS, false],
      [sa('controller'), 'delete', 'pods', 'shop', false],
      [sa('controller'), 'update', 'nodes', undefined, false],
      [sa('controller'), 'create', 'sandboxprofiles.podfence.dev', undefined, false],
      [sa('controller'), 'create', 'sandboxadmissionparams.podfence.dev', undefined, true],
      [sa('controller'), 'update', 'sandboxadmissionparams.podfence.dev/pf-podfence-sandbox-params', undefined, true],
      [sa('controller'), 'update', 'sandboxadmissionparams.podfence.dev/other', undefined, false],
      [sa('controller'), 'delete', 'sandboxadmissionparams.podfence.dev', undefined, false],
      [sa('webhook'), 'update', 'sandboxadmissionparams.podfence.dev', undefined, false],
      // webhook
      [sa('webhook'), 'list', 'sandboxprofiles.podfence.dev', undefined, true],
      [sa('webhook'), 'get', 'namespaces', undefined, true],
      [sa('webhook'), 'get', 'secrets', 'shop', true], // imagePullSecrets, like the kubelet
      [sa('webhook'), 'list', 'secrets', 'shop', false],
      [sa('webhook'), 'update', 'secrets', 'shop', false],
      [sa('webhook'), 'update', 'secrets/pf-podfence-webhook-tls', NS, true],
      [sa('webhook'), 'update', 'secrets/other', NS, false],
      [sa('webhook'), 'patch', 'secrets/pf-podfence-webhook-tls', NS, false],
      [sa('webhook'), 'create', 'secrets', NS, false],
      [sa('webhook'), 'update', 'mutatingwebhookconfigurations/pf-podfence', undefined, true],
      [sa('webhook'), 'update', 'mutatingwebhookconfigurations/someone-else', undefined, false],
      [sa('webhook'), 'update', 'validatingadmissionpolicies', undefined, false],
      [sa('webhook'), 'create', 'mutatingwebhookconfigurations', undefined, false],
      [sa('webhook'), 'update', 'sandboxprofiles.podfence.dev', undefined, false],
      [sa('webhook'), 'create', 'pods', 'shop', false],
      // node agent
      [sa('node-agent'), 'create', 'sandboxnodereports.podfence.dev', undefined, true],
      [sa('node-agent'), 'patch', 'sandboxnodereports.podfence.dev:status', undefined, true],
      [sa('node-agent'), 'watch', 'sandboxprofiles.podfence.dev', undefined, true],
      [sa('node-agent'), 'get', 'nodes', undefined, true],
      [sa('node-agent'), 'list', 'pods', undefined, true],
      [sa('node-agent'), 'get', 'pods', 'shop', true],
      [sa('node-agent'), 'create', 'events', 'shop', true],
      [sa('node-agent'), 'delete', 'events', 'shop', false],
      [sa('node-agent'), 'update', 'sandboxprofiles.podfence.dev:status', undefined, false],
      [sa('node-agent'), 'delete', 'sandboxnodereports.podfence.dev', undefined, false],
      [sa('node-agent'), 'patch', 'nodes', undefined, false],
      [sa('node-agent'), 'get', 'secrets', NS, false],
    ];
    const wrong = cases.filter(([as, verb, res, ns, want]) => canI(as, verb, res, ns) !== want);
    expect(wrong).toEqual([]);
  });

  test('the webhook ServiceAccount can really store its certificate and set the caBundle (self-managed mode)', () => {
    // As src/certs/manager.ts does it: read, then replace the whole Secret (its own labels, Helm's dropped) and
    // the MutatingWebhookConfiguration, as the webhook's ServiceAccount.
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
    const secret = k.getJson<Any>(['get', 'secret', 'pf-podfence-webhook-tls', '-n', NS, `--as=${sa('webhook')}`]);
    const replaced = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: secret.metadata.name,
        namespace: NS,
        resourceVersion: secret.metadata.resourceVersion,
        labels: { 'app.kubernetes.io/managed-by': 'podfence', 'app.kubernetes.io/component': 'webhook' },
      },
      data: { 'ca.crt': ca, 'tls.crt': ca, 'tls.key': Buffer.from('key').toString('base64') },
    };
    k.kubectlOk(['replace', '-f', '-', `--as=${sa('webhook')}`], JSON.stringify(replaced));
    const mwc = k.getJson<Any>(['get', 'mutatingwebhookconfiguration', 'pf-podfence', `--as=${sa('webhook')}`]);
    for (const w of mwc.webhooks) w.clientConfig.caBundle = ca;
    k.kubectlOk(['replace', '-f', '-', `--as=${sa('webhook')}`], JSON.stringify(mwc));
  });

  test('CRD upgrade: helm upgrade leaves CRDs alone; the documented step updates them', () => {
    const crd = 'crd/sandboxprofiles.podfence.dev';
    const before = k.getJson<Any>(['get', crd]);
    expect(before.spec.names.shortNames?.length).toBeGreaterThan(0);
    // An older CRD in the cluster: simulated by removing a field the chart's CRD has.
    k.kubectlOk(['patch', crd, '--type=json', '-p', '[{"op":"remove","path":"/spec/names/shortNames"}]']);
    helmOk(['upgrade', REL, CHART_DIR, '-n', NS]);
    expect(k.getJson<Any>(['get', crd]).spec.names.shortNames).toBeUndefined(); // Helm never upgrades crds/
    // docs/install.md, "Upgrading": first the CRDs, then helm upgrade.
    const crds = helm(['show', 'crds', CHART_DIR]);
    k.kubectlOk(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=podfence-crds', '-f', '-'],
      crds.stdout,
    );
    expect(k.getJson<Any>(['get', crd]).spec.names.shortNames).toEqual(before.spec.names.shortNames);
  });

  test('upgrade with changed values: the cluster follows; certificate data and caBundle survive', () => {
    const pathBefore = k.getJson<Any>(['get', 'mutatingwebhookconfiguration', 'pf-podfence']).webhooks[0].clientConfig
      .service.path as string;
    expect(pathBefore).toMatch(/^\/mutate\/[a-z0-9]{43}$/);
    helmOk([
      'upgrade',
      REL,
      CHART_DIR,
      '-n',
      NS,
      '--set',
      'webhook.failurePolicy=Ignore,webhook.timeoutSeconds=5,controller.replicas=3,presets.names={computation}',
    ]);
    const mwc = k.getJson<Any>(['get', 'mutatingwebhookconfiguration', 'pf-podfence']);
    expect(mwc.webhooks[0]).toMatchObject({ failurePolicy: 'Ignore', timeoutSeconds: 5 });
    expect(mwc.webhooks[0].clientConfig.caBundle).toBeTruthy();
    // The caller token survives the upgrade (lookup of the installed Secret): the path and the Secret still agree.
    expect(mwc.webhooks[0].clientConfig.service.path).toBe(pathBefore);
    const token = k.getJson<Any>(['get', 'secret', 'pf-podfence-webhook-caller', '-n', NS]).data.token as string;
    expect(`/mutate/${Buffer.from(token, 'base64').toString('utf8')}`).toBe(pathBefore);
    expect(
      Object.keys(k.getJson<Any>(['get', 'secret', 'pf-podfence-webhook-tls', '-n', NS]).data ?? {}).sort(),
    ).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(k.getJson<Any>(['get', 'deployment', 'pf-podfence-controller', '-n', NS]).spec.replicas).toBe(3);
    // Presets dropped from the values are removed; the others stay.
    expect(k.getJson<{ items: Any[] }>(['get', 'sandboxprofiles']).items.map((p) => p.metadata.name)).toEqual([
      'computation',
    ]);
    // failurePolicy Ignore really applies: with no webhook running the apiserver skips it, and the
    // sandbox-required policy refuses the unsandboxed pod instead (defence in depth).
    const refused = tryPodUntil('shop', (r) => !r.stderr.includes('failed calling webhook'));
    expect(refused.stderr).not.toContain('failed calling webhook');
    expect(refused.stderr).toContain('ValidatingAdmissionPolicy');
    // No controller runs here (no node), so the policy's parameters were never published: fail closed.
    expect(refused.stderr).toMatch(/no params found for policy binding with `Deny` parameterNotFoundAction/);
    expect(refused.status).not.toBe(0);
    expect(helmOk(['history', REL, '-n', NS]).trim().split('\n')).toHaveLength(4);
  });

  test('uninstall leaves nothing but the CRDs', () => {
    // --no-hooks: the pre-delete hook is a Job, and this control plane has no node to run it (install-node.test.ts
    // runs it); without a controller here no finalizer holds the presets anyway.
    helmOk(['uninstall', REL, '-n', NS, '--wait', '--timeout', '60s', '--no-hooks']);
    expect(leftovers(REL, NS)).toEqual([]);
    expect(
      k.getJson<{ items: Any[] }>(['get', 'all,secrets,serviceaccounts,roles,rolebindings,pdb,configmaps', '-n', NS])
        .items,
    ).toEqual([]);
    for (const crd of [
      'sandboxprofiles.podfence.dev',
      'sandboxnodereports.podfence.dev',
      'sandboxadmissionparams.podfence.dev',
    ]) {
      expect(k.kubectl(['get', 'crd', crd]).status).toBe(0);
    }
    // With podfence gone, opted-in namespaces work as if it had never been there (once the apiserver's admission
    // caches have seen the deletions: policies and webhook configurations are watched, not read per request).
    const last = tryPodUntil('shop', (r) => r.status === 0);
    expect(last.stderr).toBe('');
    expect(last.status).toBe(0);
  });

  test('installs again, into another namespace under another release name (CRDs already there)', () => {
    const out = helmOk(['install', 'sec', CHART_DIR, '-n', 'security-tools', '--create-namespace']);
    expect(out).toContain('STATUS: deployed');
    const mwc = k.getJson<Any>(['get', 'mutatingwebhookconfiguration', 'sec-podfence']);
    expect(mwc.webhooks[0].clientConfig.service).toMatchObject({
      name: 'sec-podfence-webhook',
      namespace: 'security-tools',
    });
    expect(mwc.webhooks[0].namespaceSelector.matchExpressions[1].values).toEqual([
      'security-tools',
      'kube-system',
      'kube-public',
      'kube-node-lease',
    ]);
    const binding = k.getJson<Any>(['get', 'clusterrolebinding', 'sec-podfence-webhook']);
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'sec-podfence-webhook', namespace: 'security-tools' },
    ]);
    expect(
      canI(sa('webhook', 'security-tools', 'sec'), 'update', 'secrets/sec-podfence-webhook-tls', 'security-tools'),
    ).toBe(true);
    helmOk(['uninstall', 'sec', '-n', 'security-tools', '--wait', '--no-hooks']);
    expect(leftovers('sec', 'security-tools')).toEqual([]);
  });
});
