// SandboxProfiles in integration tests: one way to write one to the apiserver and to know what it compiles to.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { findCondition } from '../../src/model/conditions.js';
import type { ProfileObject } from '../../src/model/objects.js';
import { compileProfileObject, type CompiledProfile } from '../../src/profile/index.js';

export const PROFILES = { group: 'podfence.dev', version: 'v1alpha1', plural: 'sandboxprofiles' };

export function profileBody(name: string, spec: object): ProfileObject {
  return { apiVersion: 'podfence.dev/v1alpha1', kind: 'SandboxProfile', metadata: { name }, spec };
}

/** Creates the profile (a whole body, or a name and spec). */
export async function createProfile(kc: KubeConfig, body: ProfileObject): Promise<ProfileObject>;
export async function createProfile(kc: KubeConfig, name: string, spec: object): Promise<ProfileObject>;
export async function createProfile(kc: KubeConfig, a: ProfileObject | string, spec?: object): Promise<ProfileObject> {
  const body = typeof a === 'string' ? profileBody(a, spec ?? {}) : a;
  return (await kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({ ...PROFILES, body })) as ProfileObject;
}

export async function getProfile(kc: KubeConfig, name: string): Promise<ProfileObject> {
  return (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({ ...PROFILES, name })) as ProfileObject;
}

export const readyCondition = (p: ProfileObject) => findCondition(p.status?.conditions, 'Ready');

/** What the processes compile the profile to (the seccomp file's bytes, hash and name), from src/profile. */
export function expectedSeccomp(name: string, spec: object): CompiledProfile['seccomp'] {
  const r = compileProfileObject(profileBody(name, spec));
  if (!r.ok) throw new Error(`test profile invalid: ${JSON.stringify(r.errors)}`);
  return r.compiled.seccomp;
}
