import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ResilientInformer } from '../../kube/informer.js';
import { DenialCollector } from './collector.js';
import { DenialEventWriter } from './event-writer.js';
import { PodLookup } from './pod-lookup.js';

export interface DenialsOptions {
  /** audit-tap binary (in the image: /usr/local/bin/audit-tap). */
  tap: string;
  /** Also set the kernel's audit `enabled` flag (Landlock logs nothing while it is 0). */
  enableAudit?: boolean;
}

/** The node agent's denial collector, tied to its pod informer and its API client. */
export function createDenialCollector(o: {
  denials: DenialsOptions;
  pods: ResilientInformer<V1Pod>;
  core: CoreV1Api;
  nodeName: string;
  log: Logger;
  registry: Registry;
}): DenialCollector {
  const lookup = new PodLookup(() => o.pods.list(), o.core);
  const writer = new DenialEventWriter(o.core, o.nodeName);
  const collector = new DenialCollector({
    tap: o.denials.tap,
    tapArgs: o.denials.enableAudit ? ['--enable-audit'] : [],
    podByUid: (uid, cid) => lookup.byUid(uid, cid),
    writeEvent: (e) => writer.write(e),
    log: o.log.child({ part: 'denials' }),
    registry: o.registry,
  });
  o.pods.on('delete', (pod: V1Pod) => {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    lookup.forget(uid);
    writer.forgetPod(uid);
    collector.forgetPod(uid);
  });
  return collector;
}
