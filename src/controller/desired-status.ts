import { IN_USE_FINALIZER } from '../common/constants.js';
import { findCondition, setCondition } from '../model/conditions.js';
import type { ConditionStatus, NodeReportStatus, ProfileObject, ProfileStatus } from '../model/objects.js';
import { sameContent } from '../model/same-content.js';
import type { CompiledProfile, FieldError } from '../profile/index.js';
import type { NodeCounter, NodeTally } from './install-index.js';

// The heart of the controller: what a profile's status, finalizers and events should be, as a pure function of
// the profile, what it compiles to, the node reports, the nodes and the pods that use it. `reconcile` only reads
// caches, calls this, and writes the difference.

export type ReadyReason = 'Installed' | 'Installing' | 'InvalidSpec' | 'NodeUnsupported' | 'Terminating';

/** What the status needs of the profile's compilation (a CompileResult is one). */
export type Compilation =
  | {
      ok: true;
      compiled: Pick<CompiledProfile, 'requiredLandlockAbi'> & {
        seccomp: Pick<CompiledProfile['seccomp'], 'hash' | 'localhostProfile'>;
      };
    }
  | { ok: false; errors: FieldError[] };

export interface NodeView {
  name: string;
  /** The node agent's report for this node; undefined while no agent has reported. */
  report?: NodeReportStatus;
}

export interface DesiredInput {
  profile: ProfileObject;
  compilation: Compilation;
  /** Every node with its report, or an index that counts them (the controller's NodeInstallIndex). */
  nodes: NodeView[] | NodeCounter;
  /** `namespace/name` of active pods using this profile. */
  pods: string[];
  now: Date;
}

export interface ProfileEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Decision {
  status: ProfileStatus;
  /** The finalizer list to write, or undefined when the current one is right. */
  finalizers?: string[];
  events: ProfileEvent[];
}

const MAX_LISTED = 10;

function listSome(items: string[]): string {
  const sorted = [...items].sort();
  const head = sorted.slice(0, MAX_LISTED).join(', ');
  return sorted.length > MAX_LISTED ? `${head} and ${sorted.length - MAX_LISTED} more` : head;
}

/** Per-node view of one compiled version: has the file, and can run it. */
export function nodeState(node: NodeView, profileName: string, hash: string, requiredAbi: number) {
  const installed = (node.report?.installed ?? []).some((f) => f.profile === profileName && f.hash === hash);
  const abi = node.report?.landlockABI;
  // A node that has not reported its ABI yet is not "unsupported": it is still installing.
  const supported = abi === undefined ? undefined : abi >= requiredAbi;
  return { installed, supported, abi };
}

/** The tally of a plain node list: the definition the index must agree with. */
export function tallyViews(nodes: NodeView[], profileName: string, hash: string, requiredAbi: number): NodeTally {
  const states = nodes.map((n) => ({ name: n.name, ...nodeState(n, profileName, hash, requiredAbi) }));
  return {
    total: nodes.length,
    installed: states.filter((s) => s.installed).length,
    missing: states.filter((s) => !s.installed).map((s) => s.name),
    unsupported: states.filter((s) => s.supported === false).map((s) => ({ name: s.name, abi: s.abi ?? 0 })),
  };
}

export function desiredStatus(input: DesiredInput): Decision {
  const { profile, compilation, nodes, pods, now } = input;
  const name = profile.metadata?.name ?? '';
  const generation = profile.metadata?.generation;
  const deleting = Boolean(profile.metadata?.deletionTimestamp);
  const status: ProfileStatus = { observedGeneration: generation };

  let reason: ReadyReason;
  let ready: ConditionStatus = 'False';
  let message: string;

  status.pods = pods.length;
  if (compilation.ok) {
    const { seccomp, requiredLandlockAbi } = compilation.compiled;
    status.seccompProfilePath = seccomp.localhostProfile;
    status.hash = seccomp.hash;
    const tally = Array.isArray(nodes)
      ? tallyViews(nodes, name, seccomp.hash, requiredLandlockAbi)
      : nodes.tally(name, seccomp.hash, requiredLandlockAbi);
    const { installed, total, missing, unsupported } = tally;
    status.nodes = { installed, total };
    if (unsupported.length > 0) {
      reason = 'NodeUnsupported';
      message =
        `Landlock ABI ${requiredLandlockAbi} needed, lower on node(s) ` +
        listSome(unsupported.map((s) => `${s.name} (ABI ${s.abi})`)) +
        '; pods using this profile are not scheduled there';
    } else if (total === 0) {
      reason = 'Installing';
      message = 'no nodes in the cluster yet';
    } else if (missing.length > 0) {
      reason = 'Installing';
      message = `${seccomp.localhostProfile} on ${installed}/${total} nodes; waiting for ${listSome(missing)}`;
    } else {
      reason = 'Installed';
      ready = 'True';
      message = `${seccomp.localhostProfile} on all ${total} nodes`;
    }
  } else {
    reason = 'InvalidSpec';
    message = compilation.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    // Keep what was last installed visible: pods admitted earlier still use it.
    if (profile.status?.seccompProfilePath) status.seccompProfilePath = profile.status.seccompProfilePath;
    if (profile.status?.hash) status.hash = profile.status.hash;
  }

  const finalizers = profile.metadata?.finalizers ?? [];
  let nextFinalizers: string[] | undefined;
  if (deleting) {
    reason = 'Terminating';
    ready = 'False';
    if (pods.length > 0) {
      status.blockingPods = [...pods].sort();
      message = `deletion waits for ${pods.length} pod(s) still using this profile: ${listSome(pods)}`;
    } else {
      message = 'no pod uses this profile any more; removing the finalizer';
      if (finalizers.includes(IN_USE_FINALIZER)) nextFinalizers = finalizers.filter((f) => f !== IN_USE_FINALIZER);
    }
  } else if (!finalizers.includes(IN_USE_FINALIZER)) {
    nextFinalizers = [...finalizers, IN_USE_FINALIZER];
  }

  status.conditions = setCondition(
    profile.status?.conditions,
    { type: 'Ready', status: ready, reason, message, observedGeneration: generation },
    now,
  );

  return { status, finalizers: nextFinalizers, events: eventsFor(profile.status, status, deleting) };
}

/** Events for what changed between the stored status and the new one. */
export function eventsFor(before: ProfileStatus | undefined, after: ProfileStatus, deleting: boolean): ProfileEvent[] {
  const events: ProfileEvent[] = [];
  if (after.hash && after.hash !== before?.hash) {
    events.push({ type: 'Normal', reason: 'Compiled', message: `seccomp profile ${after.seccompProfilePath}` });
  }
  const was = findCondition(before?.conditions, 'Ready');
  const now = findCondition(after.conditions, 'Ready');
  if (now && (was?.reason !== now.reason || (now.reason !== 'Installing' && was?.message !== now.message))) {
    const warning =
      now.reason === 'InvalidSpec' || now.reason === 'NodeUnsupported' || (deleting && !!after.blockingPods);
    events.push({
      type: warning ? 'Warning' : 'Normal',
      reason: deleting && after.blockingPods ? 'DeletionBlocked' : (now.reason ?? ''),
      message: now.message ?? '',
    });
  }
  return events;
}

/** Status equality that ignores key order, so an unchanged status is never rewritten. */
export function sameStatus(a: ProfileStatus | undefined, b: ProfileStatus): boolean {
  return sameContent(a ?? {}, b);
}
