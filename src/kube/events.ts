import type { Logger } from 'pino';
import type { KubeConnection } from './access.js';
import { shortError } from './errors.js';
import { KubeRest } from './rest.js';

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
  private readonly rest: KubeRest;
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();

  constructor(
    kubeConfig: KubeConnection,
    private readonly component: string,
    private readonly log?: Logger,
    private readonly dedupWindowMs = 10 * 60_000,
  ) {
    this.rest = new KubeRest(kubeConfig);
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
        await this.rest.request('PATCH', `/api/v1/namespaces/${seen.namespace}/events/${seen.name}`, {
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
    const created = await this.rest.request<{ metadata?: { name?: string } }>(
      'POST',
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
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
          firstTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z'),
          lastTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z'),
          count: 1,
        },
      },
    );
    if (this.recent.size > 1000) this.recent.clear();
    this.recent.set(key, { name: created.metadata!.name!, namespace, count: 1, at: now.getTime() });
  }
}
