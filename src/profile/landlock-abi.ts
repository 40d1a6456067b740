// The lowest Landlock ABI a node must have for an `enforce` profile to start: filesystem rules need ABI 1, TCP
// bind/connect rules ABI 4, scoping (abstract unix sockets, signals) ABI 6. `audit` profiles (Landlock not
// applied) and `best-effort` Landlock need nothing: the wrapper uses what the kernel has.

/** The parts of a resolved profile (defaults applied) that decide the ABI; a ResolvedProfile is one. */
export interface LandlockShape {
  mode?: string;
  landlock?: {
    mode?: string;
    baseline?: boolean;
    readOnly?: unknown[];
    readWrite?: unknown[];
    execute?: unknown[];
    tcp?: { bind?: unknown[]; connect?: unknown[] } | null;
    scope?: unknown[];
  } | null;
}

export function requiredLandlockAbi(resolved: LandlockShape): number {
  if ((resolved.mode ?? 'enforce') !== 'enforce') return 0;
  const ll = resolved.landlock;
  if (!ll || (ll.mode ?? 'enforce') !== 'enforce') return 0;
  let abi = 0;
  const fs = ll.baseline !== false || [ll.readOnly, ll.readWrite, ll.execute].some((a) => (a?.length ?? 0) > 0);
  if (fs) abi = 1;
  if (ll.tcp) abi = Math.max(abi, 4);
  if ((ll.scope?.length ?? 0) > 0) abi = Math.max(abi, 6);
  return abi;
}
