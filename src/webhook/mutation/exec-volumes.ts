import type { V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { INIT_DIR } from '../../common/constants.js';
import type { ProfileInfo } from '../types.js';
import { canonical } from './mount-paths.js';

// Step: no volume that can be written while the container runs is mounted at, over or under a path its profile
// lets it execute. The workload (or another container of the pod, or a writer outside the pod for shared storage)
// would put a program there and run it, past Landlock's execute rule. The wrapper refuses the write grant at run
// time too; refusing here names the field, and covers what the wrapper cannot see: the volume written through
// another container's mount, or through a second mount of the same volume (subPath, subPathExpr: whatever
// subdirectory the kubelet picks, it is the same volume, so the check is per volume, not per path).

/** Kinds the kubelet always mounts read-only and whose content only the apiserver writes. */
const READ_ONLY_KINDS = ['configMap', 'secret', 'downwardAPI', 'projected', 'image'] as const;
/** Kinds private to the pod: writable only through the pod's own mounts. */
const POD_PRIVATE_KINDS = ['emptyDir', 'ephemeral'] as const;

/** The directories a profile lets a container execute from (podfence's own /podfence has its own check). */
export function executePaths(profile: Pick<ProfileInfo, 'landlockArgs'>): string[] {
  const args = profile.landlockArgs({ readOnly: [], readWrite: [] });
  const out: string[] = [];
  for (let i = 0; i + 1 < args.length; i++) {
    if (args[i] === '--exec' || args[i] === '--optional-exec') out.push(canonical(args[i + 1]!));
  }
  return [...new Set(out)].filter((p) => p !== INIT_DIR);
}

/** Who can write `volume` while containers run (undefined: nobody). */
export function writerOf(spec: V1PodSpec, volume: V1Volume | undefined): string | undefined {
  if (!volume) return undefined;
  if (READ_ONLY_KINDS.some((k) => volume[k] !== undefined)) return undefined;
  if (!POD_PRIVATE_KINDS.some((k) => volume[k] !== undefined)) {
    const kind = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
    return `a ${kind} volume, which writers outside the pod can change`;
  }
  // Plain init containers finish before the others start; sidecars (restartPolicy Always) run beside them, and
  // ephemeral containers (kubectl debug) can be added at any time.
  const running = [
    ...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  for (const c of running) {
    const m = (c.volumeMounts ?? []).find((vm) => vm.name === volume.name && vm.readOnly !== true);
    if (m) return `mounted writable by container "${c.name}" at ${m.mountPath}`;
  }
  return undefined;
}

/** Does one canonical path lie at, under or over the other? */
function overlaps(a: string, b: string): boolean {
  const under = (p: string, d: string) => p === d || d === '/' || p.startsWith(d + '/');
  return under(a, b) || under(b, a);
}

/**
 * Denials for one container's mounts (`field`: its place in the pod, e.g. `spec.containers[0]`). `volumes`: the
 * pod's own (podfence's taken off).
 */
export function writableOverExecute(
  spec: V1PodSpec,
  volumes: V1Volume[],
  mounts: V1VolumeMount[] | undefined,
  profile: Pick<ProfileInfo, 'name' | 'landlockArgs'>,
  field: string,
  where: string,
): string[] {
  const exec = executePaths(profile);
  if (!exec.length) return [];
  const byName = new Map(volumes.map((v) => [v.name, v]));
  return (mounts ?? []).flatMap((m, i) => {
    const path = canonical(m.mountPath);
    const hit = exec.find((e) => overlaps(path, e));
    if (!hit) return [];
    const writer = writerOf(spec, byName.get(m.name));
    if (!writer) return [];
    const sub = m.subPathExpr ? ` (subPathExpr ${JSON.stringify(m.subPathExpr)})` : m.subPath ? ` (subPath)` : '';
    return [
      `${field}.volumeMounts[${i}].mountPath (${where}, ${JSON.stringify(m.mountPath)}): volume "${m.name}"${sub} ` +
        `is writable (${writer}) and lies at, over or under ${hit}, which SandboxProfile "${profile.name}" lets ` +
        `the container execute from: a program written there would run past Landlock; mount it elsewhere, ` +
        `read-only everywhere in the pod, or take the path out of the profile's execute list`,
    ];
  });
}
