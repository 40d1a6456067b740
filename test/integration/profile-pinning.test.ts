// Issue #14 item 7, through the real apiserver: a profile's `podfence.dev/in-use` finalizer waits only for pods
// podfence sandboxed (those of namespaces opted in to podfence). A hand-written pod elsewhere that carries
// `podfence.dev/applied` and the profile's seccomp path is the author's own word: it is not counted in the status
// and does not block deleting the profile, while the same pod in an opted-in namespace does (the control).
import { jest } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Controller } from '../../src/controller/controller.js';
import { waitFor } from '../cluster/net.js';
import { deleteNamespace, sharedKubeConfig, uniqueName, uniqueNamespace } from '../cluster/shared.js';
import { createProfile, expectedSeccomp, getProfile, PROFILES, readyCondition } from './profiles.js';

jest.setTimeout(180_000);

const kc = sharedKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const profileName = uniqueName('pin');
const spec = { preset: 'computation' };
let controller: Controller;
let opted: string;
let plain: string;

/** A pod that claims the profile: its annotation and its seccomp file, as the webhook would have written them. */
function claiming(name: string): V1Pod {
  return {
    metadata: { name, annotations: { 'podfence.dev/applied': `${profileName}@0123456789abcdef` } },
    spec: {
      nodeSelector: { 'podfence.dev/pinning-test-never': 'true' },
      securityContext: {
        seccompProfile: { type: 'Localhost', localhostProfile: expectedSeccomp(profileName, spec).localhostProfile },
      },
      containers: [{ name: 'c', image: 'localhost/none:dev', command: ['/c'] }],
    },
  };
}

const gone = async () =>
  getProfile(kc, profileName).then(
    () => false,
    (e: unknown) => (e as { code?: number }).code === 404,
  );

beforeAll(async () => {
  opted = await uniqueNamespace('pf-pin-opted', { 'podfence.dev/profile': profileName });
  plain = await uniqueNamespace('pf-pin-plain');
  controller = new Controller({
    kubeConfig: kc,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    registry: new Registry(),
    resyncMs: 10_000,
  });
  controller.startInformers();
  await controller.waitForSync();
  controller.startReconciling();
}, 120_000);

afterAll(async () => {
  await controller?.stopReconciling();
  await controller?.stopInformers();
  if (!(await gone())) {
    await custom
      .patchClusterCustomObject({
        ...PROFILES,
        name: profileName,
        body: [{ op: 'replace', path: '/metadata/finalizers', value: [] }],
      })
      .catch(() => undefined);
    await custom.deleteClusterCustomObject({ ...PROFILES, name: profileName }).catch(() => undefined);
  }
  for (const ns of [opted, plain]) if (ns) await deleteNamespace(ns);
}, 120_000);

test("a hand-written pod outside opted-in namespaces neither counts nor blocks the profile's deletion", async () => {
  await createProfile(kc, profileName, spec);
  await core.createNamespacedPod({ namespace: plain, body: claiming('forged') });
  await core.createNamespacedPod({ namespace: opted, body: claiming('sandboxed') });

  // Counted: the opted-in namespace's pod only.
  await waitFor(
    async () => {
      const p = await getProfile(kc, profileName);
      return p.metadata?.finalizers?.includes('podfence.dev/in-use') === true && p.status?.pods === 1;
    },
    60_000,
    'the profile has its finalizer and counts one pod',
  );
  await custom.deleteClusterCustomObject({ ...PROFILES, name: profileName });
  await waitFor(
    async () => (await getProfile(kc, profileName)).status?.blockingPods?.length === 1,
    60_000,
    'the status names the blocking pod',
  );
  const blocked = await getProfile(kc, profileName);
  expect(readyCondition(blocked)?.reason).toBe('Terminating');
  expect(blocked.status?.blockingPods).toEqual([`${opted}/sandboxed`]);
  expect(blocked.status?.pods).toBe(1);

  // Once the sandboxed pod is gone, the forged one (still there, annotation and all) does not hold the profile.
  await core.deleteNamespacedPod({ name: 'sandboxed', namespace: opted, gracePeriodSeconds: 0 });
  await waitFor(gone, 60_000, 'the profile is deleted while the hand-written pod still claims it');
  const forged = await core.readNamespacedPod({ name: 'forged', namespace: plain });
  expect(forged.metadata?.annotations?.['podfence.dev/applied']).toContain(profileName);
});
