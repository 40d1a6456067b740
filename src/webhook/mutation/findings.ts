// What a step found besides its value: reasons to refuse the pod, and warnings for the user (kubectl shows them).

export interface Findings {
  denials: string[];
  warnings: string[];
}

export const noFindings = (): Findings => ({ denials: [], warnings: [] });

/** Appends b's findings to a's, in order (the order is the one users read). */
export function addFindings(a: Findings, b: Partial<Findings>): void {
  a.denials.push(...(b.denials ?? []));
  a.warnings.push(...(b.warnings ?? []));
}

export function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
