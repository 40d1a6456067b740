import type { Logger } from 'pino';
import { isNotFound } from '../kube/errors.js';
import { MERGE_PATCH, type KubeRest } from '../kube/rest.js';
import type { ReconcileResult } from '../kube/workqueue.js';
import type { ControllerCaches } from './caches.js';
import type { NodeName } from './keys.js';
import type { Reconciler } from './loop.js';
import { desiredSeccompLabels, seccompLabelPatch, type ProfileRequirement } from './node-labels.js';

export interface NodeReconcilerDeps {
  caches: ControllerCaches;
  /** Every valid profile's current version (hash, Landlock ABI), by name. */
  requirements(): ReadonlyMap<string, ProfileRequirement>;
  rest: KubeRest;
  log: Logger;
  /** Throws when this replica no longer leads: checked right before every write. */
  assertLeading(): void;
}

/** Node (and its SandboxNodeReport) -> the node's `seccomp.podfence.dev/<hash>` labels. */
export class NodeLabelReconciler implements Reconciler<NodeName> {
  readonly name = 'node-labels';

  constructor(private readonly d: NodeReconcilerDeps) {}

  async reconcile(name: NodeName): Promise<ReconcileResult> {
    const { caches } = this.d;
    const node = caches.nodes.get(name);
    if (!node) return;
    const desired = desiredSeccompLabels(caches.reports.get(name)?.status, this.d.requirements());
    const patch = seccompLabelPatch(node.metadata?.labels, desired);
    if (!patch) return;
    this.d.assertLeading();
    try {
      await this.d.rest.request('PATCH', `/api/v1/nodes/${encodeURIComponent(name)}`, {
        body: { metadata: { labels: patch } },
        contentType: MERGE_PATCH,
      });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.d.log.info({ node: name, labels: patch }, 'node seccomp labels updated');
  }
}
