/**
 * Which helper versions to keep, pure: the current one, and every version some published volume still shows
 * (a running pod keeps the wrapper it started with until it ends). Everything else goes.
 */
export interface StorePlanInput {
  versions: string[];
  current: string | undefined;
  inUse: Set<string>;
}

export function versionsToRemove({ versions, current, inUse }: StorePlanInput): string[] {
  return versions.filter((v) => v !== current && !inUse.has(v)).sort();
}

/** Version names are content hashes we made; anything else in the directory is a leftover temp or not ours. */
export const VERSION_NAME = /^[0-9a-f]{16}$/;
