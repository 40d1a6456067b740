import type { Logger } from 'pino';
import { API_VERSION, PROFILE_KIND } from '../common/constants.js';
import type { ClusterObjects } from '../kube/cluster-objects.js';
import { isNotFound, isPreconditionFailure } from '../kube/errors.js';
import type { EventRecorder } from '../kube/events.js';
import type { ReconcileResult } from '../kube/workqueue.js';
import { findCondition } from '../model/conditions.js';
import type { ControllerCaches } from './caches.js';
import { desiredStatus, sameStatus } from './desired-status.js';
import type { ProfileName } from './keys.js';
import type { Reconciler } from './loop.js';

export interface ProfileReconcilerDeps {
  caches: ControllerCaches;
  objects: ClusterObjects;
  events: EventRecorder;
  log: Logger;
  /** Throws when this replica no longer leads: checked right before every write. */
  assertLeading(): void;
  /** The Ready reason of each profile as last decided, for the profiles gauge. */
  onState(name: string, reason: string): void;
}

/** SandboxProfile -> its status, the in-use finalizer and events (desiredStatus decides; this writes). */
export class ProfileReconciler implements Reconciler<ProfileName> {
  readonly name = 'sandboxprofile';

  constructor(private readonly d: ProfileReconcilerDeps) {}

  async reconcile(name: ProfileName): Promise<ReconcileResult> {
    const { caches, log: parentLog } = this.d;
    const profile = caches.profiles.get(name);
    if (!profile) return;
    const log = parentLog.child({ profile: name });
    const decision = desiredStatus({
      profile,
      compilation: caches.compiled.get(profile),
      nodes: caches.installs,
      pods: caches.podIndex.podsUsing(name, (ns) => caches.namespaces.get(ns) !== undefined),
      now: new Date(),
    });
    const ready = findCondition(decision.status.conditions, 'Ready');
    this.d.onState(name, ready?.reason ?? 'Unknown');

    const profileName = profile.metadata?.name ?? name;
    const releasing = profile.metadata?.deletionTimestamp && decision.finalizers;
    const stale = caches.pods.health() ?? caches.namespaces.health();
    if (releasing && stale) {
      // Releasing a profile on a pod view that may be stale could let it go while a pod still uses it.
      log.warn({ reason: stale }, 'pod or namespace watch unhealthy: finalizer kept for now');
      return { requeueAfterMs: 2000 };
    }
    if (decision.finalizers) {
      this.d.assertLeading();
      try {
        await this.d.objects.setFinalizers(profileName, profile.metadata?.resourceVersion ?? '', decision.finalizers);
        log.info({ finalizers: decision.finalizers }, 'finalizers updated');
      } catch (err) {
        if (isNotFound(err)) return;
        // Changed under us: the cache will catch up and the key comes back.
        if (isPreconditionFailure(err)) return { requeueAfterMs: 200 };
        throw err;
      }
      if (profile.metadata?.deletionTimestamp) return; // the object is going away: no status to write
    }
    if (!sameStatus(profile.status, decision.status)) {
      this.d.assertLeading();
      try {
        await this.d.objects.replaceStatus(profileName, decision.status);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      log.info(
        { reason: ready?.reason, hash: decision.status.hash, nodes: decision.status.nodes },
        ready?.message ?? '',
      );
    }
    const target = { apiVersion: API_VERSION, kind: PROFILE_KIND, metadata: profile.metadata };
    for (const e of decision.events) void this.d.events.record(target, e.type, e.reason, e.message);
    return;
  }
}
