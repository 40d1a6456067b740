import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';

export interface PodLookupOptions {
  now?: () => number;
  /** At most one GET per pod this often, however many unknown container IDs arrive. */
  refreshMs?: number;
  /**
   * A container the pod does not list yet: the kubelet reports a new container's ID in the pod status a moment
   * after the container starts, and a denial can come first. GET again this often, at most `statusWaits` times,
   * before attributing without the container (then not again for that container).
   */
  statusWaitMs?: number;
  statusWaits?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Pod by UID for the denial collector: the node's pods come from the agent's pod informer (slim objects: name,
 * namespace, UID, podfence annotations), the container statuses and specs from one GET per pod, kept until a
 * container ID it does not know shows up (a restart) or the pod is gone from the informer.
 */
export class PodLookup {
  private readonly full = new Map<string, { pod: V1Pod; at: number }>();
  /** `uid/containerId` the pod status never listed within the wait: not waited for again. */
  private readonly gaveUp = new Set<string>();
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly statusWaitMs: number;
  private readonly statusWaits: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly listPods: () => V1Pod[],
    private readonly core: CoreV1Api,
    o: PodLookupOptions = {},
  ) {
    this.now = o.now ?? Date.now;
    this.refreshMs = o.refreshMs ?? 1_000;
    this.statusWaitMs = o.statusWaitMs ?? 500;
    this.statusWaits = o.statusWaits ?? 10;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async byUid(uid: string, containerId?: string): Promise<V1Pod | undefined> {
    const slim = this.listPods().find((p) => p.metadata?.uid === uid);
    if (!slim) {
      this.full.delete(uid);
      return undefined;
    }
    const cached = this.full.get(uid);
    const knows = (p: V1Pod) =>
      !containerId ||
      [
        ...(p.status?.containerStatuses ?? []),
        ...(p.status?.initContainerStatuses ?? []),
        ...(p.status?.ephemeralContainerStatuses ?? []),
      ].some((s) => s.containerID?.endsWith(containerId));
    if (cached && (knows(cached.pod) || this.now() - cached.at < this.refreshMs)) return cached.pod;
    let pod = await this.get(uid, slim, cached?.pod);
    const key = `${uid}/${containerId ?? ''}`;
    for (let i = 0; i < this.statusWaits && !knows(pod) && !this.gaveUp.has(key); i++) {
      await this.sleep(this.statusWaitMs);
      pod = await this.get(uid, slim, pod);
      if (i === this.statusWaits - 1 && !knows(pod)) {
        if (this.gaveUp.size >= 10_000) this.gaveUp.clear();
        this.gaveUp.add(key);
      }
    }
    return pod;
  }

  /** GETs the pod (and caches it); on failure the best pod at hand: the slim one still says whether podfence
   * sandboxed it, only the container stays unknown. */
  private async get(uid: string, slim: V1Pod, fallback: V1Pod | undefined): Promise<V1Pod> {
    try {
      const pod = await this.core.readNamespacedPod({
        name: slim.metadata!.name!,
        namespace: slim.metadata!.namespace!,
      });
      if (pod.metadata?.uid !== uid) return slim;
      if (this.full.size > 5_000) this.full.clear();
      this.full.set(uid, { pod, at: this.now() });
      return pod;
    } catch {
      return fallback ?? slim;
    }
  }

  forget(uid: string): void {
    this.full.delete(uid);
    for (const k of this.gaveUp) if (k.startsWith(`${uid}/`)) this.gaveUp.delete(k);
  }
}
