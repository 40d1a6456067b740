import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { shortError } from './errors.js';

/** What an event is about: enough of an object to fill `involvedObject`. */
export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

/**
 * core/v1 Events, as `kubectl describe` shows them. Cluster-scoped objects get their events in `default`, as the
 * kubelet and scheduler do for Nodes. A repeat of the same (object, reason, message) within `dedupWindowMs` bumps
 * `count` on the existing Event instead of creating another. Never throws: events are best effort.
 */
export class EventRecorder {
  private readonly api: CoreV1Api;
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly component: string,
    private readonly log?: Logger,
    private readonly dedupWindowMs = 10 * 60_000,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    return this.write(target, type, reason, message).catch((err: unknown) => {
      this.log?.warn({ err: shortError(err), reason }, 'could not record event');
    });
  }

  private async write(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = target.metadata?.namespace || 'default';
    const key = [target.kind, namespace, target.metadata?.name, target.metadata?.uid, type, reason, message].join('|');
    const now = new Date();
    const seen = this.recent.get(key);
    if (seen && now.getTime() - seen.at < this.dedupWindowMs) {
      seen.count++;
      seen.at = now.getTime();
      try {
        await this.api.patchNamespacedEvent({
          name: seen.name,
          namespace: seen.namespace,
          // JSON patch: client-node's default patch content type.
          body: [
            { op: 'replace', path: '/count', value: seen.count },
            { op: 'replace', path: '/lastTimestamp', value: now.toISOString() },
          ],
        });
        return;
      } catch {
        // Gone (events expire): fall through and create a fresh one.
      }
    }
    const created = await this.api.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${target.metadata?.name ?? 'object'}.`, namespace },
        involvedObject: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          name: target.metadata?.name,
          namespace: target.metadata?.namespace,
          uid: target.metadata?.uid,
          resourceVersion: target.metadata?.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: process.env.HOSTNAME ?? this.component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
    if (this.recent.size > 1000) this.recent.clear();
    this.recent.set(key, { name: created.metadata!.name!, namespace, count: 1, at: now.getTime() });
  }
}
