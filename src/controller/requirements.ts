import type { CompiledProfiles } from '../model/compiled-profiles.js';
import type { ProfileObject } from '../model/objects.js';
import type { ProfileRequirement } from './node-labels.js';

/**
 * The current version (hash, Landlock ABI) of every valid profile, kept from the profile events, for the node-label
 * reconciler: one map instead of recompiling-or-looking-up every profile for every node it reconciles.
 */
export class ProfileRequirements {
  private readonly byName = new Map<string, ProfileRequirement>();

  constructor(private readonly compiled: CompiledProfiles) {}

  /** Record a profile as it is now; returns whether its requirement changed (node labels may then change). */
  set(profile: ProfileObject): boolean {
    const name = profile.metadata?.name ?? '';
    const c = this.compiled.get(profile);
    const next = c.ok ? { hash: c.compiled.seccomp.hash, requiredAbi: c.compiled.requiredLandlockAbi } : undefined;
    const before = this.byName.get(name);
    if (next) this.byName.set(name, next);
    else this.byName.delete(name);
    return before?.hash !== next?.hash || before?.requiredAbi !== next?.requiredAbi;
  }

  /** A profile is gone; returns whether it had a requirement. */
  delete(name: string): boolean {
    return this.byName.delete(name);
  }

  all(): ReadonlyMap<string, ProfileRequirement> {
    return this.byName;
  }
}
