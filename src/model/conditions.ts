import type { Condition, ProfileObject } from './objects.js';

// Status conditions as Kubernetes API conventions (and controller-runtime's meta helpers) treat them: one entry per
// type; the transition time moves only when the status does.

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * The conditions with `next` set: replaces the entry of its type in place (or appends it), keeping the previous
 * lastTransitionTime when the status did not change. Returns a new list.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const previous = findCondition(conditions, next.type);
  const entry: Condition = {
    ...next,
    lastTransitionTime:
      previous && previous.status === next.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  if (!previous) return [...(conditions ?? []), entry];
  return (conditions ?? []).map((c) => (c === previous ? entry : c));
}

/**
 * A profile's current version is usable: Ready is True for this generation and the installed hash is the one
 * compiled here (a status written for an older spec does not count).
 */
export function profileReady(obj: ProfileObject, compiledHash: string): boolean {
  const status = obj.status ?? {};
  const ready = findCondition(status.conditions, 'Ready');
  const generation = obj.metadata?.generation;
  return (
    ready?.status === 'True' &&
    (generation === undefined || ready.observedGeneration === undefined || ready.observedGeneration === generation) &&
    (status.hash === undefined || status.hash === compiledHash)
  );
}
