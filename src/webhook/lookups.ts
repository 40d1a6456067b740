import type { KubeConfig, V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { PROFILE_LABEL } from '../common/constants.js';
import { ResilientInformer } from '../kube/informer.js';
import { CompiledProfiles } from '../model/compiled-profiles.js';
import { profileReady } from '../model/conditions.js';
import { optedInNamespaceInformer, profileInformer } from '../model/informers.js';
import type { ProfileObject } from '../model/objects.js';
import { formatErrors } from '../profile/index.js';
import type { Lookups } from './admission.js';
import type { ProfileLookup } from './types.js';

/**
 * Informer-backed lookups: opted-in namespaces (label selector, so only those are cached) and SandboxProfiles,
 * compiled once per spec and assembled once per resourceVersion. No API call per admission request.
 */
export class InformerLookups implements Lookups {
  private readonly namespaces: ResilientInformer<V1Namespace>;
  private readonly profiles: ResilientInformer<ProfileObject>;
  private readonly compiled = new CompiledProfiles();
  private readonly infos = new Map<string, { rv: string; result: ProfileLookup }>();

  constructor(kc: KubeConfig, log?: Logger) {
    this.namespaces = optedInNamespaceInformer(kc, log);
    this.profiles = profileInformer(kc, log);
    this.profiles.on('delete', (p) => {
      const name = p.metadata?.name ?? '';
      this.infos.delete(name);
      this.compiled.delete(name);
    });
  }

  start(): void {
    this.namespaces.start();
    this.profiles.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all([this.namespaces.waitForSync(), this.profiles.waitForSync()]);
  }

  /** For /readyz: both caches synced and watching. */
  health(): string | undefined {
    return [this.namespaces.health(), this.profiles.health()].filter(Boolean).join('; ') || undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([this.namespaces.stop(), this.profiles.stop()]);
  }

  namespaceProfile(namespace: string): string | undefined {
    return this.namespaces.get(namespace)?.metadata?.labels?.[PROFILE_LABEL];
  }

  profile(name: string): ProfileLookup | undefined {
    const obj = this.profiles.get(name);
    if (!obj) return undefined;
    const rv = obj.metadata?.resourceVersion ?? '';
    const hit = this.infos.get(name);
    if (hit && hit.rv === rv) return hit.result;
    const result = profileInfoOf(obj, this.compiled);
    this.infos.set(name, { rv, result });
    return result;
  }
}

/** The compiled profile with its Ready flag, or the profile's errors as one line. */
export function profileInfoOf(obj: ProfileObject, compiled: CompiledProfiles = new CompiledProfiles()): ProfileLookup {
  const c = compiled.get(obj);
  if (!c.ok) return { ok: false, error: formatErrors(c.errors) };
  return { ok: true, profile: { ...c.compiled, ready: profileReady(obj, c.compiled.seccomp.hash) } };
}
