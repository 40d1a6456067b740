// @kubernetes/client-node (1.4, object-parameter API) against the test cluster through the harness's kubeconfig:
// list, watch and merge-patch SandboxProfiles, as the controller will.
import {
  CustomObjectsApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { API_VERSION, GROUP, PROFILE_KIND, PROFILE_PLURAL, VERSION } from '../../src/common/constants.js';
import { sharedKubeConfig, uniqueName } from '../cluster/shared.js';

interface Profile extends KubernetesObject {
  spec: { mode?: string; capabilities?: { keep?: string[] } };
}

const kc = sharedKubeConfig();
const custom = kc.makeApiClient(CustomObjectsApi);
const ref = { group: GROUP, version: VERSION, plural: PROFILE_PLURAL };
const run = uniqueName('run');
const label = 'podfence.dev/test-run';
const names: string[] = [];

function profile(name: string): Profile {
  return {
    apiVersion: API_VERSION,
    kind: PROFILE_KIND,
    metadata: { name, labels: { [label]: run } },
    spec: { mode: 'audit', capabilities: { keep: [] } },
  };
}

async function createProfile(name: string): Promise<Profile> {
  const p = (await custom.createClusterCustomObject({ ...ref, body: profile(name) })) as Profile;
  names.push(name);
  return p;
}

async function list(): Promise<Profile[]> {
  const res = (await custom.listClusterCustomObject({
    ...ref,
    labelSelector: `${label}=${run}`,
  })) as KubernetesListObject<Profile>;
  return res.items;
}

afterAll(async () => {
  for (const name of names) await custom.deleteClusterCustomObject({ ...ref, name }).catch(() => undefined);
});

test('lists the profiles it created, by label', async () => {
  const a = uniqueName('list-a');
  const b = uniqueName('list-b');
  await createProfile(a);
  await createProfile(b);
  expect((await list()).map((p) => p.metadata?.name).sort()).toEqual([a, b].sort());
});

test('a merge patch changes one field and keeps the others', async () => {
  const name = uniqueName('patch');
  await createProfile(name);
  const patched = (await custom.patchClusterCustomObject(
    { ...ref, name, body: { spec: { mode: 'enforce' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as Profile;
  expect(patched.spec.mode).toBe('enforce');
  expect(patched.spec.capabilities).toEqual({ keep: [] });
  expect(patched.metadata?.labels?.[label]).toBe(run);
  expect(patched.metadata?.generation).toBe(2);
});

test('a watch sees ADDED, MODIFIED and DELETED events', async () => {
  const name = uniqueName('watch');
  const events: { type: string; name?: string; mode?: string }[] = [];
  let resolveWhen: (() => void) | undefined;
  let wanted = 0;
  const reached = (n: number) =>
    new Promise<void>((resolve, reject) => {
      wanted = n;
      resolveWhen = resolve;
      setTimeout(() => reject(new Error(`watch saw only ${JSON.stringify(events)}`)), 60_000).unref();
      if (events.length >= n) resolve();
    });
  const watchErrors: unknown[] = [];
  let aborted = false;
  // Start from the current resourceVersion so the watch sees only what follows.
  const rv = ((await custom.listClusterCustomObject({ ...ref, limit: 1 })) as KubernetesListObject<Profile>).metadata
    ?.resourceVersion;
  const controller = await new Watch(kc).watch(
    `/apis/${GROUP}/${VERSION}/${PROFILE_PLURAL}`,
    { labelSelector: `${label}=${run}`, resourceVersion: rv, allowWatchBookmarks: false },
    (type, obj: Profile) => {
      if (obj.metadata?.name !== name) return;
      events.push({ type, name: obj.metadata?.name, mode: obj.spec?.mode });
      if (events.length >= wanted) resolveWhen?.();
    },
    (err) => {
      // Our own abort() ends the watch with an AbortError; anything before that is a failure.
      if (err && !aborted) watchErrors.push(err);
    },
  );
  try {
    await createProfile(name);
    await reached(1);
    await custom.patchClusterCustomObject(
      { ...ref, name, body: { spec: { mode: 'enforce' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await reached(2);
    await custom.deleteClusterCustomObject({ ...ref, name });
    await reached(3);
  } finally {
    aborted = true;
    controller.abort();
  }
  expect(events).toEqual([
    { type: 'ADDED', name, mode: 'audit' },
    { type: 'MODIFIED', name, mode: 'enforce' },
    { type: 'DELETED', name, mode: 'enforce' },
  ]);
  expect(watchErrors).toEqual([]);
});
