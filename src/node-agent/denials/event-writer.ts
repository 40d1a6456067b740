import type { CoreV1Api } from '@kubernetes/client-node';
import { DENIAL_ANNOTATION_PREFIX, DENIED_EVENT_REASON } from '../../common/constants.js';
import { isNotFound } from '../../kube/errors.js';
import { eventMessage, type Emission } from './aggregate.js';
import type { PodDenial } from './attribute.js';

export const EVENT_COMPONENT = 'podfence-node-agent';

/** The denial as `podfence.dev/denial-<field>` annotations. */
export function denialAnnotations(d: PodDenial): Record<string, string> {
  const a: Record<string, string> = {
    layer: d.layer,
    outcome: d.outcome,
    operation: d.operation,
    object: d.object,
    detail: d.detail,
    profile: d.profile,
    ...(d.container ? { container: d.container } : {}),
  };
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [DENIAL_ANNOTATION_PREFIX + k, v]));
}

/**
 * Writes one core/v1 Event per aggregated denial key on the pod, reason PodfenceDenied, and bumps that Event's
 * `count` (by how many denials the emission stands for) when the key comes again. I/O only; the caller decides
 * when (DenialAggregator).
 */
export class DenialEventWriter {
  private readonly names = new Map<string, { name: string; count: number }>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly nodeName: string,
    private readonly maxRemembered = 5_000,
  ) {}

  async write(e: Emission): Promise<void> {
    const d = e.denial;
    const last = new Date(e.lastTime * 1000);
    const seen = this.names.get(e.key);
    if (seen) {
      try {
        await this.core.patchNamespacedEvent({
          name: seen.name,
          namespace: d.namespace,
          body: [
            { op: 'replace', path: '/count', value: seen.count + e.count },
            { op: 'replace', path: '/lastTimestamp', value: last.toISOString() },
          ],
        });
        seen.count += e.count;
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // Expired (events have a TTL): write a fresh one.
      }
    }
    const created = await this.core.createNamespacedEvent({
      namespace: d.namespace,
      body: {
        // The denial as data (for `podfence suggest`), not only as prose.
        metadata: { generateName: `${d.pod}.`, namespace: d.namespace, annotations: denialAnnotations(d) },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: d.pod,
          namespace: d.namespace,
          uid: d.podUid,
          ...(d.container ? { fieldPath: `spec.containers{${d.container}}` } : {}),
        },
        type: 'Warning',
        reason: DENIED_EVENT_REASON,
        message: eventMessage(d).slice(0, 1024),
        source: { component: EVENT_COMPONENT, host: this.nodeName },
        reportingComponent: EVENT_COMPONENT,
        reportingInstance: this.nodeName,
        firstTimestamp: new Date(e.firstTime * 1000),
        lastTimestamp: last,
        count: e.count,
      },
    });
    if (this.names.size >= this.maxRemembered) this.names.delete(this.names.keys().next().value!);
    this.names.set(e.key, { name: created.metadata!.name!, count: e.count });
  }

  forgetPod(uid: string): void {
    for (const key of this.names.keys()) if (key.startsWith(`${uid}\u0000`)) this.names.delete(key);
  }
}
