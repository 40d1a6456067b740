// helm lint and helm template, default and non-default values, with assertions on what is rendered.
// No cluster needed (dry-run.test.ts and install.test.ts check against the real apiserver).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_DIR, REPO, find, helm, parseManifests, render, renderText, type K8sObject } from './helm.js';
import { podTemplates, rbacProblems, restrictedViolations, type PodSpec } from './pod-security.js';

const NONDEFAULT = ['-f', join(REPO, 'test', 'chart', 'values-nondefault.yaml')];

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const spec = (o: K8sObject): Any => (o as Any).spec;
const podSpec = (o: K8sObject): Any => spec(o).template.spec;
const container = (o: K8sObject, name: string): Any => {
  const c = [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers].find((x: Any) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${o.kind}/${o.metadata.name}`);
  return c;
};

/** The webhook's caller token, from the Secret the chart renders. */
function callerToken(objs: K8sObject[]): string {
  const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-webhook-caller')) as Any;
  return Buffer.from(secret.data.token as string, 'base64').toString('utf8');
}
/** Rendered text with the random caller token replaced by a fixed one. */
const sameToken = (text: string) =>
  text.replace(/\/mutate\/[A-Za-z0-9]+/g, '/mutate/TOKEN').replace(/^( {2}token: )\S+$/gm, '$1VE9LRU4=');

describe('helm lint', () => {
  test.each([
    ['default values', []],
    ['non-default values', NONDEFAULT],
  ])('passes --strict with %s', (_label, flags) => {
    const r = helm(['lint', '--strict', CHART_DIR, ...flags]);
    expect(r.stderr + r.stdout).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });
});

describe('packaging', () => {
  test('helm package keeps the CRDs, the schema and the notes; kubeVersion refuses clusters older than 1.30', () => {
    const out = mkdtempSync(join(tmpdir(), 'podfence-package-'));
    try {
      const r = helm(['package', CHART_DIR, '--destination', out]);
      expect(r.status).toBe(0);
      const tgz = join(out, readdirSync(out)[0]!);
      const files = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n');
      expect(files).toEqual(
        expect.arrayContaining([
          'podfence/values.schema.json',
          'podfence/templates/NOTES.txt',
          'podfence/crds/podfence.dev_sandboxprofiles.yaml',
          'podfence/crds/podfence.dev_sandboxnodereports.yaml',
        ]),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    expect(() => renderText({ flags: ['--kube-version', '1.29.0'] })).toThrow('incompatible with Kubernetes v1.29.0');
    expect(() => renderText({ flags: ['--kube-version', '1.30.0'] })).not.toThrow();
  });
});

describe('values.schema.json', () => {
  test.each([
    [{ 'webhook.failurePolicy': 'Maybe' }, '/webhook/failurePolicy'],
    [{ 'webhook.timeoutSeconds': 31 }, '/webhook/timeoutSeconds'],
    [{ 'webhook.certs.mode': 'vault' }, '/webhook/certs/mode'],
    [{ 'webhook.reinvocationPolicy': 'Always' }, '/webhook/reinvocationPolicy'],
    [{ kubeletRootDir: 'var/lib/kubelet' }, '/kubeletRootDir'],
    [{ 'controller.replicas': 0 }, '/controller/replicas'],
    [{ 'presets.names': ['web-server'] }, '/presets/names/0'],
    [{ runAsUser: 0 }, '/runAsUser'],
    [{ 'webhook.replicaz': 2 }, "additional properties 'replicaz'"],
    [{ 'webhook.unresolvedEntrypoint': 'admit' }, '/webhook/unresolvedEntrypoint'],
    [{ 'webhook.validation.actions': ['Block'] }, '/webhook/validation/actions/0'],
    [{ 'image.operator.digest': 'latest' }, '/image/operator/digest'],
  ])('rejects %j, naming the field', (values, field) => {
    expect(() => renderText({ values })).toThrow(field);
  });
});

describe('default render', () => {
  const objs = render({ namespace: 'podfence-system' });

  test('renders the whole product', () => {
    const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        'ClusterRole/podfence-controller',
        'ClusterRole/podfence-node-agent',
        'ClusterRole/podfence-uninstall',
        'ClusterRole/podfence-webhook',
        'ClusterRoleBinding/podfence-controller',
        'ClusterRoleBinding/podfence-node-agent',
        'ClusterRoleBinding/podfence-uninstall',
        'ClusterRoleBinding/podfence-webhook',
        'CSIDriver/podfence.dev',
        'DaemonSet/podfence-node-agent',
        'Deployment/podfence-controller',
        'Deployment/podfence-webhook',
        'MutatingWebhookConfiguration/podfence',
        'PodDisruptionBudget/podfence-controller',
        'PodDisruptionBudget/podfence-webhook',
        'Role/podfence-controller',
        'Role/podfence-webhook',
        'RoleBinding/podfence-controller',
        'RoleBinding/podfence-webhook',
        'SandboxProfile/computation',
        'SandboxProfile/file-processor',
        'SandboxProfile/network-server',
        'Secret/podfence-webhook-caller',
        'Secret/podfence-webhook-tls',
        'NetworkPolicy/podfence-controller',
        'NetworkPolicy/podfence-node-agent',
        'NetworkPolicy/podfence-webhook',
        'Service/podfence-controller-metrics',
        'Service/podfence-node-agent-metrics',
        'Service/podfence-webhook',
        'Service/podfence-webhook-metrics',
        'ServiceAccount/podfence-controller',
        'ServiceAccount/podfence-node-agent',
        'ServiceAccount/podfence-uninstall',
        'Job/podfence-uninstall',
        'ServiceAccount/podfence-webhook',
        'ValidatingAdmissionPolicy/podfence-controller-node-labels',
        'ValidatingAdmissionPolicy/podfence-node-agent-own-report',
        'ValidatingAdmissionPolicy/podfence-sandbox-required',
        'ValidatingAdmissionPolicyBinding/podfence-controller-node-labels',
        'ValidatingAdmissionPolicyBinding/podfence-node-agent-own-report',
        'ValidatingAdmissionPolicyBinding/podfence-sandbox-required',
      ].sort(),
    );
  });

  test('controller: 2 replicas, leader election on a Lease, PDB', () => {
    const d = find(objs, 'Deployment', 'podfence-controller');
    expect(spec(d).replicas).toBe(2);
    expect(container(d, 'controller').args).toEqual(
      expect.arrayContaining([
        'controller',
        '--lease-name=podfence-controller',
        '--lease-duration-seconds=15',
        '--renew-deadline-seconds=10',
      ]),
    );
    expect(container(d, 'controller').args).not.toContain('--no-leader-elect');
    expect(spec(find(objs, 'PodDisruptionBudget', 'podfence-controller')).minAvailable).toBe(1);
  });

  test('webhook: 2 replicas spread over nodes, never below the asked count in a rollout, PDB, Service on 443', () => {
    const d = find(objs, 'Deployment', 'podfence-webhook');
    expect(spec(d).replicas).toBe(2);
    expect(spec(d).strategy.rollingUpdate.maxUnavailable).toBe(0);
    const anti = podSpec(d).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    expect(anti.topologyKey).toBe('kubernetes.io/hostname');
    expect(anti.labelSelector.matchLabels).toEqual(spec(d).selector.matchLabels);
    expect(spec(find(objs, 'PodDisruptionBudget', 'podfence-webhook')).minAvailable).toBe(1);
    const svc = find(objs, 'Service', 'podfence-webhook');
    expect(spec(svc).ports).toEqual([{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
    expect(spec(svc).selector).toEqual(spec(d).selector.matchLabels);
    expect(container(d, 'webhook').ports).toEqual(
      expect.arrayContaining([{ name: 'https', containerPort: 9443, protocol: 'TCP' }]),
    );
  });

  test('webhook configuration: opt-in label, own namespace and kube-system, kube-public, kube-node-lease excluded, Fail, 10 s, IfNeeded, no side effects', () => {
    const w = (find(objs, 'MutatingWebhookConfiguration') as Any).webhooks[0];
    expect(w.namespaceSelector).toEqual({
      matchExpressions: [
        { key: 'podfence.dev/profile', operator: 'Exists' },
        {
          key: 'kubernetes.io/metadata.name',
          operator: 'NotIn',
          values: ['podfence-system', 'kube-system', 'kube-public', 'kube-node-lease'],
        },
      ],
    });
    expect(w).toMatchObject({
      name: 'pods.podfence.dev',
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      reinvocationPolicy: 'IfNeeded',
    });
    expect(w.clientConfig.service).toEqual({
      name: 'podfence-webhook',
      namespace: 'podfence-system',
      port: 443,
      path: `/mutate/${callerToken(objs)}`,
    });
    expect(w.clientConfig.caBundle).toBeUndefined(); // filled at run time, never rendered
    expect(w.rules[0]).toMatchObject({ operations: ['CREATE'], resources: ['pods'] });
  });

  test('sandbox-required policy: bound to the same namespaces, Deny', () => {
    const binding = find(objs, 'ValidatingAdmissionPolicyBinding', 'podfence-sandbox-required') as Any;
    expect(binding.spec.policyName).toBe('podfence-sandbox-required');
    expect(binding.spec.validationActions).toEqual(['Deny']);
    const mwc = (find(objs, 'MutatingWebhookConfiguration') as Any).webhooks[0];
    expect(binding.spec.matchResources.namespaceSelector).toEqual(mwc.namespaceSelector);
    expect((find(objs, 'ValidatingAdmissionPolicy', 'podfence-sandbox-required') as Any).spec.failurePolicy).toBe(
      'Fail',
    );
    // Its parameters: the SandboxAdmissionParams the controller publishes; missing means refused.
    expect(binding.spec.paramRef).toEqual({ name: 'podfence-sandbox-params', parameterNotFoundAction: 'Deny' });
    const controller = container(find(objs, 'Deployment', 'podfence-controller'), 'controller');
    expect(controller.args).toEqual(
      expect.arrayContaining([
        '--admission-params=podfence-sandbox-params',
        '--on-unresolved-entrypoint=deny',
        expect.stringMatching(/^--init-image=podfence\/init:/),
      ]),
    );
  });

  test('webhook and policy agree with the canonical manifests in deploy/webhook/', () => {
    const canon = [
      ...parseManifests(readFileSync(join(REPO, 'deploy/webhook/mutating-webhook.yaml'), 'utf8')),
      ...parseManifests(readFileSync(join(REPO, 'deploy/webhook/validating-policy.yaml'), 'utf8')),
    ] as Any[];
    const strip = (w: Any) => {
      const { clientConfig: _c, namespaceSelector: _n, ...rest } = w;
      void _c;
      void _n;
      return rest;
    };
    const cm = canon.find((o) => o.kind === 'MutatingWebhookConfiguration')!;
    const m = find(objs, 'MutatingWebhookConfiguration') as Any;
    expect(m.webhooks.map(strip)).toEqual(cm.webhooks.map(strip));
    expect(m.webhooks[0].clientConfig.service.path).toBe(
      `${cm.webhooks[0].clientConfig.service.path}/${callerToken(objs)}`,
    );
    // The policy's CEL is the canonical one, word for word.
    expect((find(objs, 'ValidatingAdmissionPolicy', 'podfence-sandbox-required') as Any).spec).toEqual(
      canon.find((o) => o.kind === 'ValidatingAdmissionPolicy')!.spec,
    );
  });

  // helperDelivery=init: the agent needs no CSI driver and runs restricted (csi mode: the next tests).
  const initObjs = render({ namespace: 'podfence-system', values: { helperDelivery: 'init' } });

  test("init delivery: the node agent has one hostPath, podfence's own seccomp sub-directory; it runs restricted", () => {
    const ds = find(initObjs, 'DaemonSet', 'podfence-node-agent');
    const hostPaths = (podSpec(ds).volumes as Any[]).filter((v) => v.hostPath);
    expect(hostPaths).toEqual([
      { name: 'seccomp', hostPath: { path: '/var/lib/kubelet/seccomp/podfence', type: 'DirectoryOrCreate' } },
    ]);
    const agent = container(ds, 'node-agent');
    expect(agent.args).toEqual(expect.arrayContaining(['node-agent', '--kubelet-root=/var/lib/kubelet']));
    expect(agent.env).toEqual(
      expect.arrayContaining([{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]),
    );
    const agentOnly: PodSpec = { ...(podSpec(ds) as PodSpec), initContainers: [], volumes: [] };
    expect(restrictedViolations(agentOnly)).toEqual([]);
    expect(podSpec(ds).tolerations).toEqual([{ operator: 'Exists' }]);
    expect(initObjs.some((o) => o.kind === 'CSIDriver')).toBe(false);
    expect(container(ds, 'node-agent').args).toContain('--no-csi');
  });

  test('csi delivery (default): the CSIDriver, and the agent privileged with the kubelet plugin and pods dirs', () => {
    expect((find(objs, 'CSIDriver', 'podfence.dev') as Any).spec).toEqual({
      attachRequired: false,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Ephemeral'],
      fsGroupPolicy: 'None',
      requiresRepublish: false,
      storageCapacity: false,
    });
    const ds = find(objs, 'DaemonSet', 'podfence-node-agent');
    expect((podSpec(ds).volumes as Any[]).filter((v) => v.hostPath)).toEqual([
      { name: 'seccomp', hostPath: { path: '/var/lib/kubelet/seccomp/podfence', type: 'DirectoryOrCreate' } },
      { name: 'plugins-registry', hostPath: { path: '/var/lib/kubelet/plugins_registry', type: 'Directory' } },
      { name: 'plugin-dir', hostPath: { path: '/var/lib/kubelet/plugins/podfence.dev', type: 'DirectoryOrCreate' } },
      { name: 'pods', hostPath: { path: '/var/lib/kubelet/pods', type: 'Directory' } },
    ]);
    const agent = container(ds, 'node-agent') as Any;
    expect(agent.args).toContain('--csi');
    expect(agent.securityContext).toMatchObject({ privileged: true, runAsUser: 0, readOnlyRootFilesystem: true });
    expect(agent.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'pods', mountPath: '/var/lib/kubelet/pods', mountPropagation: 'Bidirectional' },
        { name: 'plugins-registry', mountPath: '/var/lib/kubelet/plugins_registry' },
      ]),
    );
    expect(container(find(objs, 'Deployment', 'podfence-webhook'), 'webhook').args).toContain('--helper-delivery=csi');
  });

  test('denials off (default): the agent is told so and gets no host namespace; on: host network and PID, CAP_AUDIT_READ only', () => {
    for (const o of [objs, initObjs]) {
      const ds = find(o, 'DaemonSet', 'podfence-node-agent');
      expect(container(ds, 'node-agent').args).toContain('--no-denials');
      expect(podSpec(ds)).not.toHaveProperty('hostNetwork');
      expect(podSpec(ds)).not.toHaveProperty('hostPID');
    }
    for (const helperDelivery of ['init', 'csi']) {
      for (const enableAudit of [false, true]) {
        const where = `${helperDelivery} enableAudit=${enableAudit}`;
        const ds = find(
          render({
            namespace: 'podfence-system',
            values: { helperDelivery, nodeAgent: { denials: { enabled: true, enableAudit } } },
          }),
          'DaemonSet',
          'podfence-node-agent',
        );
        const pod = podSpec(ds);
        const agent = container(ds, 'node-agent') as Any;
        expect([where, pod.hostNetwork, pod.hostPID, pod.dnsPolicy]).toEqual([
          where,
          true,
          true,
          'ClusterFirstWithHostNet',
        ]);
        expect([where, agent.args.includes('--no-denials'), agent.args.includes('--enable-audit')]).toEqual([
          where,
          false,
          enableAudit,
        ]);
        expect(pod.hostIPC).toBeUndefined();
        if (helperDelivery === 'csi') {
          expect(agent.securityContext).toMatchObject({ privileged: true, runAsUser: 0 });
          continue;
        }
        // init delivery: uid 0 (added capabilities reach uid 0 only) with the audit capabilities and nothing else.
        expect([where, agent.securityContext]).toEqual([
          where,
          {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsUser: 0,
            runAsNonRoot: false,
            capabilities: { drop: ['ALL'], add: enableAudit ? ['AUDIT_READ', 'AUDIT_CONTROL'] : ['AUDIT_READ'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
        ]);
        // The chown step hands the seccomp directory to the agent's uid.
        expect(container(ds, 'seccomp-dir-owner').command.slice(-2)).toEqual(['0', '65532']);
      }
    }
    expect(
      container(find(initObjs, 'DaemonSet', 'podfence-node-agent'), 'seccomp-dir-owner').command.slice(-2),
    ).toEqual(['65532', '65532']);
  });

  test('podfence pods are "restricted"; in init delivery the node agent deviates only by its hostPath and a CHOWN-only root init step', () => {
    const found = Object.fromEntries(podTemplates(initObjs).map((t) => [t.owner, restrictedViolations(t.spec)]));
    expect(found).toEqual({
      'Deployment/podfence-controller': [],
      'Deployment/podfence-webhook': [],
      'Job/podfence-uninstall': [],
      'DaemonSet/podfence-node-agent': [
        'volume seccomp: type hostPath',
        'container seccomp-dir-owner: runAsNonRoot not true',
        'container seccomp-dir-owner: runAsUser 0',
        'container seccomp-dir-owner: adds capability CHOWN',
      ],
    });
    for (const t of podTemplates(objs))
      expect(t.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
  });

  test('RBAC: least privilege, no wildcards', () => {
    expect(rbacProblems(objs)).toEqual([]);
    const webhookNs = find(objs, 'Role', 'podfence-webhook') as Any;
    expect(webhookNs.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['podfence-webhook-tls'],
        verbs: ['get', 'update'],
      },
    ]);
    const webhookCluster = find(objs, 'ClusterRole', 'podfence-webhook') as Any;
    const wcRule = webhookCluster.rules.find((r: Any) => r.apiGroups.includes('admissionregistration.k8s.io'));
    expect(wcRule.resourceNames).toEqual(['podfence']);
    expect(wcRule.verbs).not.toContain('create');
  });

  test('every namespaced object is in the release namespace; bindings point at its ServiceAccounts', () => {
    const clusterScoped = new Set([
      'CSIDriver',
      'ClusterRole',
      'ClusterRoleBinding',
      'MutatingWebhookConfiguration',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'SandboxProfile',
    ]);
    for (const o of objs) {
      if (clusterScoped.has(o.kind)) expect(o.metadata.namespace).toBeUndefined();
      else
        expect([o.kind, o.metadata.name, o.metadata.namespace]).toEqual([o.kind, o.metadata.name, 'podfence-system']);
    }
    for (const b of objs.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
      for (const s of (b as Any).subjects)
        expect(s).toMatchObject({ kind: 'ServiceAccount', namespace: 'podfence-system' });
    }
  });

  test('presets: one SandboxProfile per preset, named after it', () => {
    const profiles = objs.filter((o) => o.kind === 'SandboxProfile');
    expect(profiles.map((p) => [p.apiVersion, p.metadata.name, spec(p)])).toEqual([
      ['podfence.dev/v1alpha1', 'computation', { preset: 'computation', mode: 'enforce' }],
      ['podfence.dev/v1alpha1', 'network-server', { preset: 'network-server', mode: 'enforce' }],
      ['podfence.dev/v1alpha1', 'file-processor', { preset: 'file-processor', mode: 'enforce' }],
    ]);
  });

  test('images default to the chart appVersion; POD_NAMESPACE from the downward API', () => {
    const chart = readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8');
    const appVersion = /^appVersion: "?([^"\n]+)"?$/m.exec(chart)![1];
    const d = find(objs, 'Deployment', 'podfence-webhook');
    expect(container(d, 'webhook').image).toBe(`podfence/operator:${appVersion}`);
    expect(container(d, 'webhook').args).toContain(`--init-image=podfence/init:${appVersion}`);
    expect(container(d, 'webhook').env).toEqual(
      expect.arrayContaining([{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }]),
    );
  });
});

describe('Node.js options', () => {
  test('controller and webhook get NODE_OPTIONS from their values (memory flags by default); empty drops it', () => {
    for (const [name, deployment] of [
      ['controller', 'podfence-controller'],
      ['webhook', 'podfence-webhook'],
    ] as const) {
      const env = (values: Record<string, unknown>) =>
        container(find(render({ values }), 'Deployment', deployment), name).env as { name: string; value?: string }[];
      expect(env({}).find((e) => e.name === 'NODE_OPTIONS')?.value).toMatch(/--max-semi-space-size=\d+/);
      expect(env({ [`${name}.nodeOptions`]: '--max-old-space-size=300' })).toContainEqual({
        name: 'NODE_OPTIONS',
        value: '--max-old-space-size=300',
      });
      expect(env({ [`${name}.nodeOptions`]: '' }).some((e) => e.name === 'NODE_OPTIONS')).toBe(false);
    }
  });
});

describe('leader election values', () => {
  test('disabled: the controller runs without a Lease', () => {
    const d = find(
      render({ values: { 'controller.leaderElection.enabled': false, 'controller.replicas': 1 } }),
      'Deployment',
      'podfence-controller',
    );
    expect(container(d, 'controller').args).toContain('--no-leader-elect');
    expect(container(d, 'controller').args.some((a: string) => a.startsWith('--lease'))).toBe(false);
  });
  test('a renew deadline not shorter than the lease is refused at render time', () => {
    expect(() => renderText({ values: { 'controller.leaderElection.renewDeadlineSeconds': 15 } })).toThrow(
      'renewDeadlineSeconds must be shorter than leaseDurationSeconds',
    );
  });
});

describe('non-default render', () => {
  const objs = render({ namespace: 'sec', release: 'r1', flags: NONDEFAULT });

  test('values reach the objects', () => {
    const wh = find(objs, 'Deployment', 'fence-webhook');
    expect(spec(wh).replicas).toBe(3);
    expect(podSpec(wh).affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(container(wh, 'webhook').image).toBe(
      'registry.example.com/sec/podfence-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    expect(container(wh, 'webhook').args).toEqual(
      expect.arrayContaining([
        '--port=10443',
        '--ops-port=9090',
        '--on-weakening=overwrite',
        '--on-unresolved-entrypoint=skip-landlock',
        '--registry-timeout-ms=3000',
        '--platform=linux/arm64/v8',
        '--insecure-registry=registry.local:5000',
        '--registry-ca-file=/etc/podfence/registry-ca/ca.crt',
        '--cert-dir=/etc/podfence/tls',
      ]),
    );
    expect(container(wh, 'webhook').args.some((a: string) => a.startsWith('--secret-name'))).toBe(false);
    expect((find(objs, 'ConfigMap', 'fence-webhook-registry-ca') as Any).data['ca.crt']).toContain('MIIBfake');
    expect(podSpec(wh).imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(podSpec(wh).priorityClassName).toBe('system-cluster-critical');
    const ctl = find(objs, 'Deployment', 'fence-controller');
    expect(container(ctl, 'controller').args).toEqual(
      expect.arrayContaining(['--lease-duration-seconds=30', '--max-concurrent-reconciles=4']),
    );
    expect(podSpec(ctl).tolerations).toEqual([{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }]);
    expect((ctl.metadata.labels ?? {}).team).toBe('platform');
    expect(spec(ctl).template.metadata.annotations ?? {}).toEqual({
      'example.com/owner': 'platform',
      'example.com/scanned': 'yes',
    });
    const ds = find(objs, 'DaemonSet', 'fence-node-agent');
    expect((podSpec(ds).volumes as Any[]).find((v) => v.hostPath)?.hostPath.path).toBe(
      '/var/lib/k0s/kubelet/seccomp/podfence',
    );
    expect(container(ds, 'node-agent').args).toContain('--kubelet-root=/var/lib/k0s/kubelet');
    expect(podSpec(ds).tolerations).toBeUndefined();
    for (const t of podTemplates(objs))
      expect(t.spec.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001 });
  });

  test('webhook configuration follows failurePolicy, timeout, reinvocation, exclusions; policy only warns', () => {
    const w = (find(objs, 'MutatingWebhookConfiguration', 'fence') as Any).webhooks[0];
    expect(w).toMatchObject({ failurePolicy: 'Ignore', timeoutSeconds: 5, reinvocationPolicy: 'Never' });
    expect(w.namespaceSelector.matchExpressions).toEqual([
      { key: 'podfence.dev/profile', operator: 'Exists' },
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['sec', 'kube-system', 'monitoring'] },
    ]);
    expect(
      (find(objs, 'ValidatingAdmissionPolicyBinding', 'fence-sandbox-required') as Any).spec.validationActions,
    ).toEqual(['Warn', 'Audit']);
    const off = render({ values: { 'webhook.validation.enabled': false, 'rbac.ownObjectsPolicies': false } });
    expect(off.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy'))).toEqual([]);
  });

  test('cert-manager mode: serving Certificate from the given issuer, CA injected from <release namespace>/<certificate>', () => {
    const cert = find(objs, 'Certificate', 'fence-webhook-serving') as Any;
    expect(cert.metadata.namespace).toBe('sec');
    expect(cert.spec.secretName).toBe('fence-webhook-tls');
    expect(cert.spec.dnsNames).toEqual(['fence-webhook.sec.svc', 'fence-webhook.sec.svc.cluster.local']);
    expect(cert.spec.issuerRef).toEqual({ kind: 'ClusterIssuer', name: 'corp-ca' });
    expect(objs.filter((o) => o.kind === 'Issuer')).toEqual([]); // an issuer was given: none of our own
    expect(find(objs, 'MutatingWebhookConfiguration').metadata.annotations).toEqual({
      'cert-manager.io/inject-ca-from': 'sec/fence-webhook-serving',
    });
    // The chart no longer creates the Secret (cert-manager does) and the webhook may not patch configurations.
    expect(objs.some((o) => o.kind === 'Secret' && o.metadata.name !== 'fence-webhook-caller')).toBe(false);
    expect(objs.some((o) => o.kind === 'Role' && o.metadata.name === 'fence-webhook')).toBe(false);
    const rules = (find(objs, 'ClusterRole', 'fence-webhook') as Any).rules as Any[];
    expect(container(find(objs, 'Deployment', 'fence-webhook'), 'webhook').args).not.toContain(
      '--webhook-configuration=fence',
    );
    expect(rules.some((r) => r.apiGroups.includes('admissionregistration.k8s.io'))).toBe(false);
    const wh = find(objs, 'Deployment', 'fence-webhook');
    expect(podSpec(wh).volumes).toEqual(
      expect.arrayContaining([{ name: 'tls', secret: { secretName: 'fence-webhook-tls' } }]),
    );
  });

  test('cert-manager without an issuer: a private CA chain in the release namespace', () => {
    const own = render({ namespace: 'sec', values: { 'webhook.certs.mode': 'cert-manager' } });
    expect(own.filter((o) => o.kind === 'Issuer').map((o) => [o.metadata.name, Object.keys(spec(o))[0]])).toEqual([
      ['podfence-selfsigned', 'selfSigned'],
      ['podfence-ca', 'ca'],
    ]);
    expect(spec(find(own, 'Certificate', 'podfence-webhook-serving')).issuerRef).toEqual({
      kind: 'Issuer',
      name: 'podfence-ca',
    });
  });

  test('ServiceMonitor selects the metrics Services of this release', () => {
    const sm = find(objs, 'ServiceMonitor', 'fence') as Any;
    expect(sm.metadata.labels.release).toBe('prometheus');
    const selected = objs.filter(
      (o) =>
        o.kind === 'Service' &&
        Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v),
    );
    expect(selected.map((s) => s.metadata.name).sort()).toEqual([
      'fence-controller-metrics',
      'fence-node-agent-metrics',
      'fence-webhook-metrics',
    ]);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', interval: '15s' });
  });

  test('presets subset with overrides', () => {
    const profiles = objs.filter((o) => o.kind === 'SandboxProfile');
    expect(profiles.map((p) => [p.metadata.name, spec(p)])).toEqual([
      ['network-server', { preset: 'network-server', mode: 'audit', capabilities: { keep: ['NET_BIND_SERVICE'] } }],
    ]);
  });

  test('still "restricted" and still no RBAC wildcards', () => {
    expect(rbacProblems(objs)).toEqual([]);
    for (const t of podTemplates(objs).filter((x) => !x.owner.startsWith('DaemonSet')))
      expect(restrictedViolations(t.spec)).toEqual([]);
  });
});

describe('any namespace: nothing is hard-coded', () => {
  test.each([
    ['default values', []],
    ['non-default values', NONDEFAULT],
  ])('rendering into two namespaces differs only by the namespace (%s)', (_label, flags) => {
    // The caller token is random per render (kept across upgrades by a lookup of the installed Secret).
    const a = sameToken(renderText({ namespace: 'tenant-alpha-ns', flags }));
    const b = sameToken(renderText({ namespace: 'tenant-bravo-ns', flags }));
    expect(a).toContain('tenant-alpha-ns');
    expect(a.split('tenant-alpha-ns').join('tenant-bravo-ns')).toBe(b);
    // Every namespace field names the release namespace (no default, no namespace the chart was developed in).
    const namespaces = new Set([...a.matchAll(/^\s*namespace: (\S+)$/gm)].map((m) => m[1]));
    expect([...namespaces]).toEqual(['tenant-alpha-ns']);
  });
});

describe('CRDs', () => {
  const chartCrds = join(CHART_DIR, 'crds');
  const repoCrds = join(REPO, 'crds');

  test('the chart carries the generated CRDs, each starting a YAML document (charts/sync-crds.sh)', () => {
    const names = readdirSync(repoCrds)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(names).toEqual(
      expect.arrayContaining(['podfence.dev_sandboxnodereports.yaml', 'podfence.dev_sandboxprofiles.yaml']),
    );
    expect(
      existsSync(chartCrds)
        ? readdirSync(chartCrds)
            .filter((f) => f.endsWith('.yaml'))
            .sort()
        : [],
    ).toEqual(names);
    for (const f of names) {
      const copy = readFileSync(join(chartCrds, f), 'utf8');
      expect(copy.startsWith('---\n')).toBe(true); // `helm show crds` concatenates files as they are
      const source = readFileSync(join(repoCrds, f), 'utf8');
      expect(copy).toBe(source.startsWith('---\n') ? source : `---\n${source}`);
    }
  });

  test('`helm template --include-crds` puts the CRDs first; plain template leaves them out (Helm owns crds/ on install only)', () => {
    const withCrds = render({ flags: ['--include-crds'] });
    expect(withCrds.slice(0, 2).map((o) => o.kind)).toEqual(['CustomResourceDefinition', 'CustomResourceDefinition']);
    expect(render().some((o) => o.kind === 'CustomResourceDefinition')).toBe(false);
  });
});

describe('documentation', () => {
  /** Dotted paths of the values that carry a `# -- ` comment in values.yaml. */
  function documentedValues(text: string): string[] {
    const paths: string[] = [];
    const stack: string[] = [];
    let commented = false;
    for (const line of text.split('\n')) {
      if (!line.trim()) {
        commented = false;
        continue;
      }
      const comment = /^\s*# ?(.*)$/.exec(line);
      if (comment) {
        if (comment[1]!.startsWith('-- ')) commented = true;
        continue;
      }
      const key = /^(\s*)([A-Za-z0-9_.-]+):/.exec(line);
      if (!key) continue;
      stack.splice(key[1]!.length / 2, Infinity, key[2]!);
      if (commented) paths.push(stack.join('.'));
      commented = false;
    }
    return paths;
  }

  test('every value has a comment in values.yaml and a row in docs/install.md', () => {
    const valuesText = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
    const documented = documentedValues(valuesText);
    expect(documented.length).toBeGreaterThan(60);
    // Every top-level key is commented (nested ones may be covered by their parent's comment).
    const topLevel = [...valuesText.matchAll(/^([A-Za-z][A-Za-z0-9]*):/gm)].map((m) => m[1]!);
    const parents = new Set(documented.map((p) => p.split('.')[0]));
    expect(topLevel.filter((k) => !parents.has(k))).toEqual([]);
    const doc = readFileSync(join(REPO, 'docs', 'install.md'), 'utf8');
    expect(documented.filter((p) => !doc.includes(`| \`${p}\` |`))).toEqual([]);
  });
});

describe('RBAC agrees with the canonical manifests in deploy/rbac/', () => {
  const canonicalDir = join(REPO, 'deploy', 'rbac');
  const chart = render({ namespace: 'podfence-system', release: 'podfence' });
  interface Rule {
    apiGroups?: string[];
    resources?: string[];
    verbs?: string[];
    resourceNames?: string[];
  }
  /** One entry per (group, resource, verb[, name]): rules compared independently of how they are grouped. */
  const grants = (rules: Rule[]) =>
    rules
      .flatMap((r) =>
        (r.apiGroups ?? []).flatMap((g) =>
          (r.resources ?? []).flatMap((res) =>
            (r.verbs ?? []).map(
              (v) => `${g}/${res} ${v}${r.resourceNames ? ` ${[...r.resourceNames].sort().join(',')}` : ''}`,
            ),
          ),
        ),
      )
      .sort();
  const canonical = (file: string) =>
    parseManifests(readFileSync(join(canonicalDir, file), 'utf8')) as (K8sObject & { rules?: Rule[] })[];

  test.each([
    ['controller.yaml', 'podfence-controller'],
    ['node-agent.yaml', 'podfence-node-agent'],
  ])('%s: the chart ClusterRole grants exactly the same', (file, name) => {
    const want = canonical(file).find((o) => o.kind === 'ClusterRole')!;
    const got = find(chart, 'ClusterRole', name) as K8sObject & { rules: Rule[] };
    expect(grants(got.rules)).toEqual(grants(want.rules ?? []));
  });

  test('the own-objects policies are the canonical ones in deploy/rbac-scope/', () => {
    const canon = parseManifests(
      readFileSync(join(REPO, 'deploy', 'rbac-scope', 'own-objects-policy.yaml'), 'utf8'),
    ) as (K8sObject & { spec?: unknown })[];
    expect(canon.length).toBe(4);
    for (const o of canon) {
      const got = find(chart, o.kind!, o.metadata!.name!) as K8sObject & { spec?: unknown };
      expect([o.kind, o.metadata!.name, got.spec]).toEqual([o.kind, o.metadata!.name, o.spec]);
    }
  });

  test('controller.yaml: the chart Role grants nothing the canonical Role does not (it may be narrower)', () => {
    const want = grants(canonical('controller.yaml').find((o) => o.kind === 'Role')!.rules ?? []);
    const got = grants((find(chart, 'Role', 'podfence-controller') as K8sObject & { rules: Rule[] }).rules);
    // A grant limited to names is covered by the same grant without names.
    expect(got.filter((g) => !want.includes(g) && !want.includes(g.split(' ').slice(0, 2).join(' ')))).toEqual([]);
  });
});

describe('perimeter (#14): caller token and NetworkPolicies', () => {
  const objs = render({ namespace: 'podfence-system' });
  type Rule = { ports: { protocol: string; port: number }[]; from: object[] };
  const policy = (component: string) => spec(find(objs, 'NetworkPolicy', `podfence-${component}`));

  test('the webhook answers only at /mutate/<token>: the Secret it mounts holds the token the configuration names', () => {
    const token = callerToken(objs);
    expect(token).toMatch(/^[a-z0-9]{43}$/); // a service path segment: a lowercase DNS label
    const w = (find(objs, 'MutatingWebhookConfiguration') as Any).webhooks[0];
    expect(w.clientConfig.service.path).toBe(`/mutate/${token}`);
    const d = find(objs, 'Deployment', 'podfence-webhook');
    expect(container(d, 'webhook').args).toContain('--caller-token-file=/etc/podfence/caller/token');
    expect(container(d, 'webhook').volumeMounts).toContainEqual({
      name: 'caller',
      mountPath: '/etc/podfence/caller',
      readOnly: true,
    });
    expect(podSpec(d).volumes).toContainEqual({ name: 'caller', secret: { secretName: 'podfence-webhook-caller' } });
    // Two renders (two installs) get different tokens.
    expect(callerToken(render({ namespace: 'podfence-system' }))).not.toBe(token);
  });

  test('webhook.callerToken.enabled=false: /mutate, no Secret, no flag', () => {
    const off = render({ values: { 'webhook.callerToken.enabled': false } });
    expect((find(off, 'MutatingWebhookConfiguration') as Any).webhooks[0].clientConfig.service.path).toBe('/mutate');
    expect(off.some((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-webhook-caller'))).toBe(false);
    expect(container(find(off, 'Deployment', 'podfence-webhook'), 'webhook').args.join(' ')).not.toContain('caller');
  });

  test('on by default: ingress only, the webhook port from webhook.from, the ops port from metrics.from', () => {
    for (const component of ['controller', 'webhook', 'node-agent']) {
      const p = policy(component);
      expect(p.policyTypes).toEqual(['Ingress']);
      // Selects exactly the component's pods.
      const workload = objs.find(
        (o) => ['Deployment', 'DaemonSet'].includes(o.kind) && o.metadata.name === `podfence-${component}`,
      )!;
      expect(spec(workload).template.metadata.labels).toMatchObject(p.podSelector.matchLabels);
      expect(p.podSelector.matchLabels['app.kubernetes.io/component']).toBe(component);
      const ops = (p.ingress as Rule[]).find((r) => r.ports[0]!.port === 8081)!;
      expect(ops).toEqual({ ports: [{ protocol: 'TCP', port: 8081 }], from: [{ podSelector: {} }] });
    }
    expect(policy('webhook').ingress).toEqual([
      {
        ports: [{ protocol: 'TCP', port: 9443 }],
        from: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }],
      },
      { ports: [{ protocol: 'TCP', port: 8081 }], from: [{ podSelector: {} }] },
    ]);
    // No other port of any podfence pod is open: one rule per port, and only the webhook has the webhook port.
    expect(policy('controller').ingress).toHaveLength(1);
    expect(policy('node-agent').ingress).toHaveLength(1);
  });

  test('the control plane CIDRs and the monitoring namespace come from values; networkPolicy.enabled=false removes them', () => {
    const custom = render({
      values: {
        'networkPolicy.webhook.from': [{ ipBlock: { cidr: '10.0.0.0/24' } }],
        'networkPolicy.metrics.from': [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
        ],
        'ports.webhook': 10250,
      },
    });
    expect(spec(find(custom, 'NetworkPolicy', 'podfence-webhook')).ingress).toEqual([
      { ports: [{ protocol: 'TCP', port: 10250 }], from: [{ ipBlock: { cidr: '10.0.0.0/24' } }] },
      {
        ports: [{ protocol: 'TCP', port: 8081 }],
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      },
    ]);
    const off = render({ values: { 'networkPolicy.enabled': false } });
    expect(off.some((o) => o.kind === 'NetworkPolicy')).toBe(false);
  });
});
