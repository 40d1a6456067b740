// Interleaving: every round runs every peer once, in an order rotated by one each round, so slow phases of the shared
// machine (other jobs, GC, thermal) fall on every peer alike and no peer always goes first or last.

/** Round r's order of the peers: the list rotated left by r. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const k = ((round % n) + n) % n;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** All rounds: `rounds` rotated orders of `items`, as [round, item] steps. */
export function interleave<T>(items: readonly T[], rounds: number): { round: number; item: T }[] {
  const steps: { round: number; item: T }[] = [];
  for (let r = 0; r < rounds; r++) for (const item of roundOrder(items, r)) steps.push({ round: r, item });
  return steps;
}

/**
 * Pod creates with and without a webhook, alternating: pair i runs "with" first when i is even and "without" first
 * when i is odd, so neither side always follows the other (caches warmed, etcd compaction, ...).
 */
export function alternatingPairs(pairs: number): ('with' | 'without')[][] {
  return Array.from({ length: pairs }, (_, i) => (i % 2 === 0 ? ['with', 'without'] : ['without', 'with']));
}
