import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';

/**
 * Pod by UID for the denial collector: the node's pods come from the agent's pod informer (slim objects: name,
 * namespace, UID, podfence annotations), the container statuses and specs from one GET per pod, kept until a
 * container ID it does not know shows up (a restart) or the pod is gone from the informer.
 */
export class PodLookup {
  private readonly full = new Map<string, { pod: V1Pod; at: number }>();

  constructor(
    private readonly listPods: () => V1Pod[],
    private readonly core: CoreV1Api,
    private readonly now: () => number = Date.now,
    /** At most one GET per pod this often, however many unknown container IDs arrive. */
    private readonly refreshMs = 1_000,
  ) {}

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
      // The slim pod still says whether podfence sandboxed it; only the container stays unknown.
      return cached?.pod ?? slim;
    }
  }

  forget(uid: string): void {
    this.full.delete(uid);
  }
}
