// The SandboxProfile CRD from crds/ on a real kube-apiserver: it is Established (jest's global setup applied it),
// valid profiles are accepted, and invalid ones are rejected at admission with the offending field named.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { GROUP, PROFILE_KIND, PROFILE_PLURAL, VERSION, API_VERSION } from '../../src/common/constants.js';
import { errorText, parseManifests, rawRequest } from '../cluster/manifests.js';
import { sharedKubeConfig, uniqueName } from '../cluster/shared.js';
import { documentedSpec } from '../fixtures/documented-profile.js';

const CRD_NAME = `${PROFILE_PLURAL}.${GROUP}`;
const CRD_FILE = join(process.cwd(), 'crds', `${GROUP}_${PROFILE_PLURAL}.yaml`);
const EXAMPLES_DIR = join(process.cwd(), 'examples', 'profiles');

const kc = sharedKubeConfig();
const custom = kc.makeApiClient(CustomObjectsApi);
const created: string[] = [];

/** The example of docs/architecture.md (without status). */
function documentedProfile(name: string): KubernetesObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: API_VERSION,
    kind: PROFILE_KIND,
    metadata: { name, labels: { 'podfence.dev/test': 'true' } },
    spec: documentedSpec(),
  };
}

async function create(body: KubernetesObject): Promise<void> {
  await custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: PROFILE_PLURAL, body });
  if (body.metadata?.name) created.push(body.metadata.name);
}

/** The apiserver's message for a rejected create, or fails the test if it was accepted. */
async function rejection(body: KubernetesObject): Promise<{ code?: number; message: string }> {
  try {
    await create(body);
  } catch (err) {
    return { code: (err as { code?: number }).code, message: errorText(err) };
  }
  throw new Error(`the apiserver accepted an invalid profile: ${JSON.stringify((body as { spec?: unknown }).spec)}`);
}

afterAll(async () => {
  for (const name of created) {
    await custom
      .deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: PROFILE_PLURAL, name })
      .catch(() => undefined);
  }
});

test('the CRD file is checked in and the apiserver has it Established', async () => {
  expect(existsSync(CRD_FILE)).toBe(true);
  const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: CRD_NAME });
  const cond = (type: string) => crd.status?.conditions?.find((c) => c.type === type)?.status;
  expect(cond('Established')).toBe('True');
  expect(cond('NamesAccepted')).toBe('True');
  expect(crd.spec.scope).toBe('Cluster');
  expect(crd.spec.names.kind).toBe(PROFILE_KIND);
  // What the cluster serves is what the repository holds.
  const fromFile = parseManifests(readFileSync(CRD_FILE, 'utf8')).find((o) => o.metadata?.name === CRD_NAME);
  expect(fromFile).toBeDefined();
  expect(crd.spec.versions.map((v) => v.name)).toContain(VERSION);
  // Read raw (client-node's typed models rename `enum`, `x-kubernetes-validations`, ...): the schema served is
  // exactly the file's, enums and CEL rules included.
  const raw = await rawRequest(kc, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`);
  type Versions = { spec: { versions: { name: string; schema: unknown }[] } };
  const served = (JSON.parse(raw.body) as Versions).spec.versions.map((v) => [v.name, v.schema]);
  expect(served).toEqual((fromFile as unknown as Versions).spec.versions.map((v) => [v.name, v.schema]));
});

test('the documented example profile is accepted and reads back unchanged', async () => {
  const body = documentedProfile(uniqueName('doc'));
  await create(body);
  const got = (await custom.getClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PROFILE_PLURAL,
    name: body.metadata?.name ?? '',
  })) as { spec: Record<string, unknown> };
  // Defaults may be added by the schema, but nothing given may be dropped or changed (no pruning of our fields).
  expect(got.spec).toMatchObject(body.spec);
});

test('the example profiles in examples/profiles are accepted', async () => {
  const files = existsSync(EXAMPLES_DIR)
    ? readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    : [];
  const profiles = files.flatMap((f) => parseManifests(readFileSync(join(EXAMPLES_DIR, f), 'utf8')));
  const examples = profiles.filter((o) => o.kind === PROFILE_KIND);
  expect(examples.length).toBeGreaterThan(0);
  for (const p of examples) {
    // Fresh names: examples are cluster-scoped and other tests (or a person's cluster) may hold the same name.
    const name = uniqueName(p.metadata?.name ?? 'example').slice(0, 40);
    await expect(create({ ...p, metadata: { ...p.metadata, name } })).resolves.toBeUndefined();
  }
});

type Mutate = (spec: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

test.each<[string, Mutate, string]>([
  ['a relative Landlock path', (s) => (s.landlock.readOnly = ['/etc', 'usr/lib']), 'spec.landlock.readOnly[1]'],
  ['a relative execute path', (s) => (s.landlock.execute = ['bin']), 'spec.landlock.execute[0]'],
  ['TCP port 0', (s) => (s.landlock.tcp.bind = [0]), 'spec.landlock.tcp.bind[0]'],
  ['TCP port 65536', (s) => (s.landlock.tcp.connect = [443, 65536]), 'spec.landlock.tcp.connect[1]'],
  [
    'an unknown capability',
    (s) => (s.capabilities.keep = ['NET_BIND_SERVICE', 'CAP_FLY']),
    'spec.capabilities.keep[1]',
  ],
  ['an unknown syscall', (s) => (s.seccomp.allow = ['read', 'not_a_syscall']), 'spec.seccomp.allow[1]'],
  ['an unknown mode', (s) => (s.mode = 'sometimes'), 'spec.mode'],
])('%s is rejected by the apiserver, naming the field', async (_what, mutate, field) => {
  const body = documentedProfile(uniqueName('bad'));
  mutate(body.spec);
  const { code, message } = await rejection(body);
  expect(code).toBe(422);
  expect(message).toContain(field);
});

test('a name longer than 40 characters is rejected', async () => {
  const body = documentedProfile(`n${'x'.repeat(40)}`);
  const { code, message } = await rejection(body);
  expect(code).toBe(422);
  expect(message).toContain('metadata.name');
});
