import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PROFILE_LABEL, PROFILE_PLURAL, VERSION } from '../common/constants.js';
import { ResilientInformer } from '../kube/informer.js';
import { ClusterObjects } from '../kube/status.js';
import type { Lookups } from './admission.js';
import { toProfileInfo, type ProfileApi, type ProfileObject } from './profile-info.js';
import type { ProfileInfo } from './types.js';

/**
 * Informer-backed lookups: opted-in namespaces (label selector, so only those are cached) and SandboxProfiles,
 * compiled once per resourceVersion. No API call per admission request.
 */
export class InformerLookups implements Lookups {
  private readonly namespaces: ResilientInformer<V1Namespace>;
  private readonly profiles: ResilientInformer<ProfileObject & { metadata?: { resourceVersion?: string } }>;
  private readonly compiled = new Map<string, { rv: string; result: ProfileInfo | { error: string } }>();

  constructor(
    kc: KubeConfig,
    private readonly api: ProfileApi,
    log?: Logger,
  ) {
    const core = kc.makeApiClient(CoreV1Api);
    const objects = new ClusterObjects(kc, { group: GROUP, version: VERSION, plural: PROFILE_PLURAL });
    this.namespaces = new ResilientInformer<V1Namespace>({
      name: 'namespaces',
      kubeConfig: kc,
      path: '/api/v1/namespaces',
      labelSelector: PROFILE_LABEL,
      list: (s) => core.listNamespace(s),
      transform: (ns) => ({
        metadata: {
          name: ns.metadata?.name,
          labels: ns.metadata?.labels,
          resourceVersion: ns.metadata?.resourceVersion,
        },
      }),
      log,
    });
    this.profiles = new ResilientInformer({
      name: 'sandboxprofiles',
      kubeConfig: kc,
      path: `/apis/${GROUP}/${VERSION}/${PROFILE_PLURAL}`,
      list: (s) => objects.list(s),
      log,
    });
    this.profiles.on('delete', (p) => this.compiled.delete(p.metadata?.name ?? ''));
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

  profile(name: string): ProfileInfo | { error: string } | undefined {
    const obj = this.profiles.get(name);
    if (!obj) return undefined;
    const rv = obj.metadata?.resourceVersion ?? '';
    const hit = this.compiled.get(name);
    if (hit && hit.rv === rv) return hit.result;
    let result: ProfileInfo | { error: string };
    try {
      const r = toProfileInfo(obj, this.api);
      result = r.ok ? r.info : { error: r.error };
    } catch (err) {
      result = { error: `cannot compile: ${String(err)}` };
    }
    this.compiled.set(name, { rv, result });
    return result;
  }
}
