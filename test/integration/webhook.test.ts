// The podfence webhook, served from this process exactly as `podfence webhook` wires it, called by the real
// kube-apiserver over TLS, with the sandbox-required policy beside it (set up by ./admission-setup.ts, bound only to
// this run's namespaces).
import { execFile } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { AdmissionregistrationV1Api, CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { binary } from '../cluster/binaries.js';
import { errorText } from '../cluster/manifests.js';
import { retryOnConflict } from '../cluster/retry.js';
import {
  deleteNamespace,
  sharedKubeConfig,
  sharedKubeconfigPath,
  uniqueName,
  uniqueNamespace,
} from '../cluster/shared.js';
import { startTestRegistry, type TestRegistry } from '../registry/registry.js';
import { policyTypeCheckWarnings, startAdmission, type AdmissionSetup } from './admission-setup.js';
import { createCA, issueServingCert } from '../../src/certs/issue.js';
import { createProfile, profileBody, PROFILES } from './profiles.js';

jest.setTimeout(180_000);
const run = promisify(execFile);

const kc = sharedKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const id = uniqueName('pfwh');
const TEST_LABEL = 'podfence-test/webhook';
const web = `${id}-web`;
const batch = `${id}-batch`;
const other = `${id}-other`;
const user = { username: 'puller', password: 'secret-pw' };

let setup: AdmissionSetup | undefined;
let operatorNs: string;
let shop: string; // opted in (profile web)
let plain: string; // not opted in
let vapOnly: string; // opted in for the validating policy only (the mutating webhook does not match it)
let pub: TestRegistry;
let priv: TestRegistry;
let images: { pub: string; priv: string };

const profile = profileBody;

function podBody(name: string, spec: Partial<V1Pod['spec']> = {}, annotations?: Record<string, string>): V1Pod {
  return {
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1', command: ['/bin/app'] }], ...spec },
  };
}

async function createPod(namespace: string, body: V1Pod): Promise<V1Pod> {
  return core.createNamespacedPod({ namespace, body });
}

async function denial(namespace: string, body: V1Pod): Promise<string> {
  const err = await core.createNamespacedPod({ namespace, body }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!err) throw new Error(`pod ${body.metadata?.name} was admitted`);
  return errorText(err);
}

beforeAll(async () => {
  [pub, priv] = await Promise.all([startTestRegistry(), startTestRegistry({ tls: true, auth: user })]);
  images = {
    pub: (await pub.push('tools/server', 'v1', { entrypoint: ['/bin/server', '--home=$HOME'], cmd: ['run'] })).ref,
    priv: (await priv.push('team/worker', 'v2', { entrypoint: [], cmd: ['/worker', 'go'] })).ref,
  };

  operatorNs = await uniqueNamespace('pf-operator');
  shop = await uniqueNamespace('pf-shop', { [TEST_LABEL]: id, 'podfence.dev/profile': web });
  plain = await uniqueNamespace('pf-plain', { [TEST_LABEL]: id });
  vapOnly = await uniqueNamespace('pf-vap', { [`${TEST_LABEL}-vap`]: id, 'podfence.dev/profile': web });

  for (const body of [
    profile(web, {
      preset: 'network-server',
      capabilities: { keep: ['NET_BIND_SERVICE'] },
      landlock: { readOnly: ['/etc'], readWrite: ['/tmp'], trustVolumes: true },
      allowOverrideTo: [batch],
    }),
    profile(batch, { preset: 'computation' }),
    profile(other, { preset: 'computation' }),
  ]) {
    await createProfile(kc, body);
  }

  // In force once a dry run comes back mutated.
  setup = await startAdmission({
    kc,
    id,
    label: TEST_LABEL,
    operatorNs,
    profiles: [web, batch, other],
    policyOnly: ['vap'],
    registry: { plainHttp: [pub.hostPort], ca: priv.caPem, timeoutMs: 5000 },
    inForce: async () => {
      const p = await core
        .createNamespacedPod({ namespace: shop, body: podBody(uniqueName('probe')), dryRun: 'All' })
        .catch(() => undefined);
      return p?.metadata?.annotations?.['podfence.dev/applied'] !== undefined;
    },
  });
});

afterAll(async () => {
  await setup?.stop();
  for (const name of [web, batch, other]) {
    await custom.deleteClusterCustomObject({ ...PROFILES, name }).catch(() => undefined);
  }
  for (const ns of [shop, plain, vapOnly, operatorNs]) if (ns) await deleteNamespace(ns);
  await Promise.all([pub?.stop(), priv?.stop()]);
});

test('the CA and certificate live in a Secret of the operator namespace; caBundle was patched', async () => {
  const secret = await core.readNamespacedSecret({ name: 'podfence-webhook-tls', namespace: operatorNs });
  expect(Object.keys(secret.data ?? {}).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  const cfg = await admission.readMutatingWebhookConfiguration({ name: setup!.mwcName });
  expect(cfg.webhooks![0]!.clientConfig.caBundle).toBe(secret.data!['ca.crt']);
});

test('the validating policy type-checks', async () => {
  expect(await policyTypeCheckWarnings(admission, setup!.vapName)).toEqual([]);
});

test('one webhook call per pod create: the installer has no API token, so the ServiceAccount plugin leaves it alone', async () => {
  // The apiserver runs its built-in mutating plugins again after a webhook changed the pod; had the ServiceAccount
  // plugin mounted the token into podfence's new installer then, the apiserver would call podfence a second time
  // (reinvocationPolicy IfNeeded). Counted by the apiserver itself (its webhook histogram).
  const hook = (await admission.readMutatingWebhookConfiguration({ name: setup!.mwcName })).webhooks![0]!.name;
  const calls = async () => {
    const { stdout } = await run(
      binary('kubectl'),
      ['--kubeconfig', sharedKubeconfigPath(), 'get', '--raw', '/metrics'],
      {
        maxBuffer: 64 << 20,
      },
    );
    let n = 0;
    for (const m of stdout.matchAll(
      /^apiserver_admission_webhook_admission_duration_seconds_count\{([^}]*)\} (\d+)/gm,
    )) {
      if (m[1]!.includes(`name="${hook}"`) && m[1]!.includes('operation="CREATE"')) n += Number(m[2]);
    }
    return n;
  };
  const before = await calls();
  const pod = await createPod(shop, podBody(uniqueName('once')));
  expect((await calls()) - before).toBe(1);
  // The pod still runs with its token where it asked for one (automount is the default): only the installer has none.
  const installer = pod.spec!.initContainers!.find((c) => c.name === 'podfence-init')!;
  const app = pod.spec!.containers[0]!;
  const tokenDir = '/var/run/secrets/kubernetes.io/serviceaccount';
  expect(installer.volumeMounts!.filter((m) => m.mountPath === tokenDir)).toEqual([
    { name: 'podfence-init', mountPath: tokenDir, readOnly: true },
  ]);
  expect(app.volumeMounts!.find((m) => m.mountPath === tokenDir)?.name).toMatch(/^kube-api-access-/);
});

test('kubectl: a pod in an opted-in namespace comes back sandboxed, with warnings printed', async () => {
  const file = join(tmpdir(), `${id}-pod.yaml`);
  const name = uniqueName('kubectl');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: shop },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'r.invalid/app:1',
            command: ['/bin/app'],
            args: ['--port', '80'],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    }),
  );
  const out = await run(binary('kubectl'), ['--kubeconfig', sharedKubeconfigPath(), 'create', '-f', file]);
  expect(out.stderr).toMatch(/Warning: SandboxProfile ".*-web" is not Ready: the pod stays Pending/);
  const pod = await core.readNamespacedPod({ name, namespace: shop });
  const spec = pod.spec!;
  expect(pod.metadata!.annotations!['podfence.dev/applied']).toMatch(new RegExp(`^${web}@[0-9a-f]{16}$`));
  expect(spec.securityContext).toMatchObject({
    runAsUser: 65534,
    runAsGroup: 65534,
    runAsNonRoot: true,
    seccompProfile: {
      type: 'Localhost',
      localhostProfile: expect.stringMatching(new RegExp(`^podfence/${web}-[0-9a-f]{16}\\.json$`)),
    },
  });
  expect(spec.initContainers!.map((c) => [c.name, c.image, c.command])).toEqual([
    ['podfence-init', 'localhost/podfence/init:dev', ['/podfence-init', 'install', '/podfence']],
  ]);
  const c = spec.containers[0]!;
  expect(c.command![0]).toBe('/podfence/podfence-init');
  expect(c.command!.join(' ')).toContain('--volume-rw /data');
  expect(c.command!.slice(-4)).toEqual(['--', '/bin/app', '--port', '80']);
  expect(c.args).toBeUndefined();
  expect(c.securityContext).toMatchObject({
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
  });
  expect(c.volumeMounts).toContainEqual({ name: 'podfence-init', mountPath: '/podfence', readOnly: true });
  const hash = spec.securityContext!.seccompProfile!.localhostProfile!.match(/-([0-9a-f]{16})\.json$/)![1];
  expect(spec.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms).toEqual([
    { matchExpressions: [{ key: `seccomp.podfence.dev/${hash}`, operator: 'Exists' }] },
  ]);
});

test('a namespace without the label is never touched', async () => {
  const pod = await createPod(plain, podBody(uniqueName('plain')));
  expect(pod.metadata?.annotations?.['podfence.dev/applied']).toBeUndefined();
  expect(pod.spec!.containers[0]!.command).toEqual(['/bin/app']);
  expect(pod.spec!.initContainers).toBeUndefined();
});

test('per-container override to an allowed profile; a disallowed one is denied', async () => {
  const pod = await createPod(
    shop,
    podBody(
      uniqueName('ovr'),
      {
        containers: [
          { name: 'app', image: 'x', command: ['/a'] },
          { name: 'job', image: 'x', command: ['/j'] },
        ],
      },
      {
        [`podfence.dev/profile.job`]: batch,
      },
    ),
  );
  expect(pod.spec!.containers[1]!.securityContext!.seccompProfile!.localhostProfile).toMatch(
    new RegExp(`^podfence/${batch}-`),
  );
  expect(await denial(shop, podBody(uniqueName('ovr'), {}, { 'podfence.dev/profile': other }))).toContain(
    `asks for SandboxProfile "${other}", but the namespace's profile "${web}" does not list it in spec.allowOverrideTo`,
  );
});

test.each([
  ['hostNetwork', { hostNetwork: true }, 'hostNetwork: true is not allowed'],
  ['hostPID', { hostPID: true }, 'hostPID: true is not allowed'],
  ['hostIPC', { hostIPC: true }, 'hostIPC: true is not allowed'],
  [
    'hostPath',
    {
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
      containers: [{ name: 'app', image: 'x', command: ['/a'], volumeMounts: [{ name: 'root', mountPath: '/host' }] }],
    },
    'hostPath volume "root" is not allowed',
  ],
  [
    'mount over /podfence',
    {
      volumes: [{ name: 'fake', emptyDir: {} }],
      containers: [
        { name: 'app', image: 'x', command: ['/a'], volumeMounts: [{ name: 'fake', mountPath: '/podfence' }] },
      ],
    },
    `container "app" mounts volume "fake" at /podfence, over podfence's /podfence`,
  ],
  [
    'privileged',
    { containers: [{ name: 'app', image: 'x', command: ['/a'], securityContext: { privileged: true } }] },
    'privileged: true would weaken',
  ],
  [
    'root',
    { containers: [{ name: 'app', image: 'x', command: ['/a'], securityContext: { runAsUser: 0 } }] },
    'runAsUser: 0 would weaken',
  ],
  [
    'capabilities',
    {
      containers: [
        { name: 'app', image: 'x', command: ['/a'], securityContext: { capabilities: { add: ['SYS_ADMIN'] } } },
      ],
    },
    "capabilities.add: [SYS_ADMIN] beyond the profile's keep list",
  ],
  [
    'unconfined seccomp',
    { securityContext: { seccompProfile: { type: 'Unconfined' } } },
    'pod securityContext: seccompProfile: Unconfined would weaken',
  ],
])('escape denied: %s', async (_what, spec, message) => {
  const text = await denial(shop, podBody(uniqueName('esc'), spec as Partial<V1Pod['spec']>));
  expect(text).toContain('admission webhook "pods.podfence.dev" denied the request');
  expect(text).toContain(message);
});

test('registry: entrypoints from a public image, and from a private one through imagePullSecrets', async () => {
  const pod = await createPod(shop, podBody(uniqueName('pub'), { containers: [{ name: 'srv', image: images.pub }] }));
  const cmd = pod.spec!.containers[0]!.command!;
  expect(cmd.slice(cmd.indexOf('--') + 1)).toEqual(['/bin/server', '--home=$$HOME', 'run']);

  const auth = Buffer.from(`${user.username}:${user.password}`).toString('base64');
  await core.createNamespacedSecret({
    namespace: shop,
    body: {
      metadata: { name: 'pull' },
      type: 'kubernetes.io/dockerconfigjson',
      data: {
        '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [priv.hostPort]: { auth } } })).toString('base64'),
      },
    },
  });
  const withSecret = await createPod(
    shop,
    podBody(uniqueName('priv'), {
      imagePullSecrets: [{ name: 'pull' }],
      containers: [{ name: 'w', image: images.priv, args: ['--fast'] }],
    }),
  );
  const wcmd = withSecret.spec!.containers[0]!.command!;
  // args without command: image ENTRYPOINT (empty) + args, as the kubelet would run it.
  expect(wcmd.slice(wcmd.indexOf('--') + 1)).toEqual(['--fast']);

  // Through the service account's imagePullSecrets.
  await core.createNamespacedServiceAccount({
    namespace: shop,
    body: { metadata: { name: 'puller' }, imagePullSecrets: [{ name: 'pull' }] },
  });
  const viaSa = await createPod(
    shop,
    podBody(uniqueName('sa'), {
      serviceAccountName: 'puller',
      automountServiceAccountToken: false,
      containers: [{ name: 'w', image: images.priv }],
    }),
  );
  const scmd = viaSa.spec!.containers[0]!.command!;
  expect(scmd.slice(scmd.indexOf('--') + 1)).toEqual(['/worker', 'go']);
});

test('registry: an image whose entrypoint cannot be read is denied with a message to set command', async () => {
  const noSecret = await denial(
    shop,
    podBody(uniqueName('nosecret'), { containers: [{ name: 'w', image: `${priv.hostPort}/team/worker:v3` }] }),
  );
  expect(noSecret).toContain('podfence could not read the entrypoint of image');
  expect(noSecret).toContain('set "command"');
  const missing = await denial(
    shop,
    podBody(uniqueName('missing'), { containers: [{ name: 'w', image: `${pub.hostPort}/nope/none:1` }] }),
  );
  expect(missing).toMatch(/manifest 1 not found.*set "command"/);
});

test('kubectl debug: an ephemeral container gets the security context', async () => {
  const name = uniqueName('eph');
  await createPod(shop, podBody(name));
  // The scheduler writes the pod's status meanwhile: read-modify-replace, again on 409 Conflict.
  const updated = await retryOnConflict(async () => {
    const pod = await core.readNamespacedPod({ name, namespace: shop });
    pod.spec!.ephemeralContainers = [{ name: 'debug', image: 'busybox', command: ['sh'] }];
    return core.replaceNamespacedPodEphemeralcontainers({ name, namespace: shop, body: pod });
  });
  const eph = updated.spec!.ephemeralContainers![0]!;
  expect(eph.command).toEqual(['sh']);
  expect(eph.securityContext).toMatchObject({
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'Localhost' },
  });
});

test('validating policy: an unsandboxed pod is refused even when no webhook mutated it', async () => {
  const text = await denial(vapOnly, podBody(uniqueName('bare')));
  expect(text).toMatch(
    /ValidatingAdmissionPolicy .*denied request: podfence: pod was not sandboxed by podfence for SandboxProfile/,
  );
});

test('validating policy: a sandboxed pod cannot lose its sandbox on UPDATE', async () => {
  const name = uniqueName('upd');
  await createPod(shop, podBody(name));
  const err = await core
    .patchNamespacedPod({
      name,
      namespace: shop,
      body: [{ op: 'remove', path: '/metadata/annotations/podfence.dev~1applied' }],
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(errorText(err)).toContain('the podfence.dev/ annotations of a sandboxed pod cannot change');
  // Unrelated updates still work.
  await core.patchNamespacedPod({
    name,
    namespace: shop,
    body: [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }],
  });
});

test('reinvocation: a webhook running after podfence that adds a container cannot leave it unsandboxed', async () => {
  const ca = await createCA('meddler-ca', 1);
  const leaf = await issueServingCert(ca, {
    commonName: 'meddler',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    days: 1,
  });
  let calls = 0;
  // Adds a plain sidecar to every pod it sees, once.
  const meddler = createHttpsServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls++;
      const review = JSON.parse(body) as { request: { uid: string; object: V1Pod } };
      const has = review.request.object.spec!.containers.some((c) => c.name === 'meddler');
      const patch = has
        ? []
        : [{ op: 'add', path: '/spec/containers/-', value: { name: 'meddler', image: 'x', command: ['/m'] } }];
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: {
            uid: review.request.uid,
            allowed: true,
            patchType: 'JSONPatch',
            patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
          },
        }),
      );
    });
  });
  await new Promise<void>((r) => meddler.listen(0, '127.0.0.1', r));
  const mport = (meddler.address() as { port: number }).port;
  // Webhooks run in name order: "<id>-z-meddler" after "<id>-mutate".
  const name = `${id}-z-meddler`;
  try {
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name },
        webhooks: [
          {
            name: 'meddler.podfence.test',
            clientConfig: { url: `https://127.0.0.1:${mport}/`, caBundle: Buffer.from(ca.cert).toString('base64') },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
            namespaceSelector: { matchLabels: { [TEST_LABEL]: id } },
            objectSelector: { matchLabels: { meddle: 'yes' } },
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
            failurePolicy: 'Fail',
          },
        ],
      },
    });
    let pod: V1Pod | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const body = podBody(uniqueName('meddled'));
      body.metadata!.labels = { meddle: 'yes' };
      pod = await createPod(shop, body);
      if (pod.spec!.containers.length === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(calls).toBeGreaterThan(0);
    const sidecar = pod!.spec!.containers.find((c) => c.name === 'meddler')!;
    expect(sidecar.command!.slice(0, 1)).toEqual(['/podfence/podfence-init']);
    expect(sidecar.command!.slice(-2)).toEqual(['--', '/m']);
    expect(sidecar.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  } finally {
    await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
    await new Promise((r) => meddler.close(r));
  }
});

test('escapes through the apiserver (#13): refused naming the field in an opted-in namespace, admitted in a plain one', async () => {
  const app = (over: Record<string, unknown>) => ({
    name: 'app',
    image: 'registry.invalid/app:1',
    command: ['/bin/app'],
    ...over,
  });
  const attempts: [string, Partial<V1Pod['spec']>, RegExp][] = [
    [
      'dollar',
      {
        volumes: [{ name: 'd', emptyDir: {} }],
        containers: [app({ env: [{ name: 'ROOT', value: '' }], volumeMounts: [{ name: 'd', mountPath: '/$(ROOT)' }] })],
      },
      /spec\.containers\[0\]\.volumeMounts\[0\]\.mountPath .*"\$\("/,
    ],
    [
      'shadow',
      {
        volumes: [{ name: 's', emptyDir: {} }],
        containers: [app({ volumeMounts: [{ name: 's', mountPath: '//podfence/podfence-init' }] })],
      },
      /volumeMounts\[0\]\.mountPath .*canonical \(\/podfence\/podfence-init\)/,
    ],
    ['groups', { securityContext: { supplementalGroups: [0] } }, /supplementalGroups: \[0\]/],
    ['fsgroup', { securityContext: { fsGroup: 0 } }, /fsGroup: 0/],
    [
      'apparmor',
      { containers: [app({ securityContext: { appArmorProfile: { type: 'Unconfined' } } })] },
      /appArmorProfile: Unconfined/,
    ],
    ['hostport', { containers: [app({ ports: [{ containerPort: 80, hostPort: 8080 }] })] }, /hostPort 8080/],
  ];
  for (const [name, spec, field] of attempts) {
    expect([name, await denial(shop, podBody(uniqueName(name), spec))]).toEqual([name, expect.stringMatching(field)]);
    // The control: the very same spec is admitted where podfence is not asked to sandbox.
    const admitted = await createPod(plain, podBody(uniqueName(name), spec));
    expect([name, admitted.metadata?.name]).toEqual([name, expect.any(String)]);
  }
});

test('exec probes and exec lifecycle hooks come back behind the wrapper (they run beside the command)', async () => {
  const exec = { exec: { command: ['/bin/check'] } };
  const pod = await createPod(
    shop,
    podBody(uniqueName('hooks'), {
      containers: [
        {
          name: 'app',
          image: 'registry.invalid/app:1',
          command: ['/bin/app'],
          livenessProbe: exec,
          lifecycle: { postStart: exec, preStop: exec },
        },
      ],
    }),
  );
  const c = pod.spec!.containers[0]!;
  for (const cmd of [c.livenessProbe?.exec?.command, c.lifecycle?.postStart?.exec?.command]) {
    expect(cmd?.[0]).toBe('/podfence/podfence-init');
    expect(cmd?.slice(-2)).toEqual(['--', '/bin/check']);
  }
  expect(c.lifecycle?.preStop?.exec?.command?.[0]).toBe('/podfence/podfence-init');
});

test('with the webhook stopped, pod creation in an opted-in namespace is refused', async () => {
  await setup!.webhook.stop();
  const text = await denial(shop, podBody(uniqueName('down')));
  expect(text).toMatch(/failed calling webhook "pods.podfence.dev"/);
  // Unlabelled namespaces do not depend on the webhook.
  await createPod(plain, podBody(uniqueName('still')));
});
