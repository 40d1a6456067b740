import type { V1VolumeMount } from '@kubernetes/client-node';

// Step: the volume mount paths the wrapper's options are built from. They go into the container's command, where
// the kubelet expands $(VAR) (a path "/$(ROOT)" would reach podfence-init as "/"), and the overlap check against
// podfence's /podfence compares them as text (so "//podfence" or "/./podfence" would slip by). A mount path must
// therefore be canonical and free of "$(": refused otherwise, naming the field.

/** Why this mount path is refused (undefined: fine). */
export function mountPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path.includes('$(')) return 'must not contain "$(" (the kubelet expands it in the command podfence builds)';
  if (path === '/') return 'must not be / (a volume over the whole container)';
  if (canonical(path) !== path) return `must be canonical (${canonical(path)}): no "//", ".", ".." or trailing "/"`;
  return undefined;
}

/** The canonical form of an absolute path: no empty, "." or ".." components, no trailing slash. */
export function canonical(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/** Denials for one container's mounts; `field` is its place in the pod, e.g. `spec.containers[0]`. */
export function mountPathDenials(mounts: V1VolumeMount[] | undefined, field: string, where: string): string[] {
  return (mounts ?? []).flatMap((m, i) => {
    const problem = mountPathProblem(m.mountPath);
    return problem
      ? [`${field}.volumeMounts[${i}].mountPath (${where}, ${JSON.stringify(m.mountPath)}): ${problem}`]
      : [];
  });
}
