import type { V1Pod } from '@kubernetes/client-node';
import { namespaceOfKey, podKey, profilesUsedByPod } from '../model/pod-usage.js';
import { profileName, type ProfileName } from './keys.js';

/**
 * Pod -> profiles it uses, and profile -> pods using it (`namespace/name`), kept from the pod cache's events.
 * The profile reconciler reads it for status.pods and the in-use finalizer.
 */
export class PodProfileIndex {
  private readonly podsByProfile = new Map<string, Set<string>>();
  private readonly profilesByPod = new Map<string, string[]>();

  /** Record a pod as it is now (deleted: `gone`); returns the profiles whose pod set may have changed. */
  update(pod: V1Pod, gone = false): ProfileName[] {
    const key = podKey(pod);
    const profiles = gone ? [] : profilesUsedByPod(pod);
    const before = this.profilesByPod.get(key) ?? [];
    if (before.length === 0 && profiles.length === 0) return [];
    for (const name of before) this.podsByProfile.get(name)?.delete(key);
    for (const name of profiles) {
      let set = this.podsByProfile.get(name);
      if (!set) this.podsByProfile.set(name, (set = new Set()));
      set.add(key);
    }
    if (profiles.length) this.profilesByPod.set(key, profiles);
    else this.profilesByPod.delete(key);
    return [...new Set([...before, ...profiles])].map(profileName);
  }

  /**
   * `namespace/name` of the active pods podfence sandboxed that use `profile`. Only pods of namespaces opted in to
   * podfence count (`optedIn`): there the webhook and the sandbox-required policy vouch for the annotation and the
   * seccomp path; anywhere else they are the pod author's own words, and must not pin a profile against deletion.
   */
  podsUsing(profile: string, optedIn: (namespace: string) => boolean): string[] {
    return [...(this.podsByProfile.get(profile) ?? [])].filter((key) => optedIn(namespaceOfKey(key)));
  }
}
