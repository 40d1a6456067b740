/**
 * The pod and container a process belongs to, from the text of /proc/<pid>/cgroup. Pure.
 *
 * cgroup v2 has one line `0::<path>`, v1 one `<id>:<controllers>:<path>` per hierarchy (hybrid hosts have both,
 * and the v2 line may be just `0::/`). The kubelet puts a pod under `.../pod<UID>/` (cgroupfs driver) or
 * `.../kubepods-<qos>-pod<UID with _>.slice/` (systemd driver); the runtime puts the container below it as
 * `<64 hex>` or `<prefix>-<64 hex>.scope` (`cri-containerd-`, `crio-`, `docker-`). Paths are relative to the
 * reader's cgroup namespace, so the agent must read them from the host's (hostPID, host cgroupns).
 */
export interface CgroupIds {
  podUid?: string;
  containerId?: string;
}

const POD = /(?:^|-)pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;
const CONTAINER = /^(?:[a-z][a-z-]*-)?([0-9a-f]{64})(?:\.scope)?$/;

export function parseCgroup(text: string): CgroupIds {
  let best: CgroupIds = {};
  for (const line of text.split('\n')) {
    const m = /^\d+:[^:]*:(.*)$/.exec(line.trim());
    if (!m) continue;
    const ids: CgroupIds = {};
    for (const seg of m[1]!.split('/')) {
      const p = POD.exec(seg);
      if (p) ids.podUid = p[1]!.replace(/_/g, '-');
      else if (ids.podUid) {
        const c = CONTAINER.exec(seg);
        if (c) ids.containerId = c[1];
      }
    }
    if (ids.podUid && ids.containerId) return ids;
    if (ids.podUid && !best.podUid) best = ids;
  }
  return best;
}
