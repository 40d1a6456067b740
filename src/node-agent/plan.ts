import type { InstalledFile } from '../model/objects.js';
import { parseLocalhostProfile } from '../model/pod-usage.js';

// What the node agent should do to its directory: a pure function of the profiles' current compiled versions,
// the files pods on this node load, and what is on disk.
// Old versions leave in two steps. A file that is neither current nor used is first "retired": dropped from the
// node report, so the controller removes the node label and no new pod is scheduled here for it; only after
// `graceMs` (and still unused) is it deleted. Deleting first would leave a window where the scheduler, working
// from the old label, binds a pod whose file is already gone.

export interface DesiredFile {
  profile: string;
  hash: string;
  json: string;
}

export interface PlanInput {
  /** file name -> current compiled version of each valid profile. */
  desired: ReadonlyMap<string, DesiredFile>;
  /** File names loaded by active pods bound to this node. */
  inUse: ReadonlySet<string>;
  /** file name -> content, for podfence-named files on disk. */
  present: ReadonlyMap<string, string>;
  /** file name -> when it was first seen unneeded (ms epoch). */
  retired: ReadonlyMap<string, number>;
  now: number;
  graceMs: number;
}

export interface Plan {
  write: { file: string; json: string }[];
  remove: string[];
  retired: Map<string, number>;
  /** What the report says is installed once the plan is applied. */
  installed: InstalledFile[];
  /** When a retired file's grace ends: sync again then. */
  recheckInMs?: number;
  /** Files pods need that are neither on disk nor current (cannot be recreated; pods will fail): warn. */
  missingInUse: string[];
}

export function planSync(input: PlanInput): Plan {
  const { desired, inUse, present, retired, now, graceMs } = input;
  const write: Plan['write'] = [];
  for (const [file, d] of desired) if (present.get(file) !== d.json) write.push({ file, json: d.json });

  const remove: string[] = [];
  const nextRetired = new Map<string, number>();
  let recheckInMs: number | undefined;
  for (const file of present.keys()) {
    if (desired.has(file) || inUse.has(file)) continue;
    if (!parseLocalhostProfile(`podfence/${file}`)) continue; // not a podfence-named file: leave it
    const since = retired.get(file) ?? now;
    if (now - since >= graceMs) {
      remove.push(file);
    } else {
      nextRetired.set(file, since);
      const left = since + graceMs - now;
      recheckInMs = recheckInMs === undefined ? left : Math.min(recheckInMs, left);
    }
  }

  const installed: InstalledFile[] = [];
  const onDisk = new Set([...present.keys(), ...write.map((w) => w.file)]);
  for (const file of [...onDisk].sort()) {
    if (!desired.has(file) && !inUse.has(file)) continue;
    const ref = parseLocalhostProfile(`podfence/${file}`);
    if (ref) installed.push({ profile: ref.profile, hash: ref.hash, file });
  }
  const missingInUse = [...inUse].filter((f) => !onDisk.has(f)).sort();
  return { write, remove: remove.sort(), retired: nextRetired, installed, recheckInMs, missingInUse };
}
