import type { V1Container, V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { CONTAINER_PROFILE_ANNOTATION_PREFIX, NODE_CSI_READY_LABEL, PROFILE_LABEL } from '../../common/constants.js';
import type { MutationContext, MutationResult, ProfileInfo } from '../types.js';
import { podfenceAnnotations } from './annotations.js';
import { containerSecurity } from './container-security.js';
import { deliver, deliveryMountsOf, mountsOverDelivery, takeOffDelivery } from './delivery.js';
import { hostEscapes, unsupportedPod } from './escapes.js';
import { addFindings, noFindings, uniq } from './findings.js';
import { namespaceProfile, pickProfile } from './pick-profiles.js';
import { podSecurity } from './pod-security.js';
import { annotationWeakenings } from './weakenings.js';
import { notReadyWarnings, requireNodeLabels, seccompLabelKeys } from './scheduling.js';
import { mountPathDenials } from './mount-paths.js';
import { writableOverExecute } from './exec-volumes.js';
import { wrapContainer } from './wrapper.js';

/**
 * The pure core of the webhook: pod + context -> sandboxed pod (with warnings for kubectl) or a denial. The steps,
 * in order: pick profiles, take off podfence's earlier pieces (delivery), host escapes, pod security context; per
 * container: its profile, container security context, wrapper; then delivery of the wrapper, scheduling,
 * annotations. Every denial is collected first, so a refused pod hears every reason at once.
 *
 * Idempotent by construction rather than by a special case: podfence's own pieces (init container, volume, mounts,
 * wrapper prefix) are first taken off and then put back, and every security field is set to the profile's value,
 * so running it on its own output yields the same pod.
 */
export function mutatePod(input: V1Pod, ctx: MutationContext): MutationResult<V1Pod> {
  const pod = structuredClone(input);
  pod.metadata ??= {};
  pod.spec ??= { containers: [] };
  const spec = pod.spec;
  const annotations = pod.metadata.annotations ?? {};

  const unsupported = unsupportedPod(spec);
  if (unsupported) return { ok: false, denied: unsupported };
  const ns = namespaceProfile(ctx);
  if (!ns.ok) return { ok: false, denied: ns.denial };
  const nsProfile = ns.profile;
  const forPod = pickProfile(annotations[PROFILE_LABEL], `annotation ${PROFILE_LABEL}`, nsProfile, ctx.profiles);
  if (!forPod.ok) return { ok: false, denied: forPod.denial };
  const podProfile = forPod.profile;

  const findings = noFindings();
  const own = takeOffDelivery(spec);
  addFindings(findings, own);
  findings.denials.push(...hostEscapes(spec, own.volumes, podProfile));
  const apparmor = annotationWeakenings(annotations, podProfile, ctx.policy.onWeakening);
  addFindings(findings, apparmor);
  const podSc = podSecurity(spec, podProfile, ctx.policy.onWeakening);
  addFindings(findings, podSc);
  spec.securityContext = podSc.securityContext;

  const used = new Map<string, ProfileInfo>([[podProfile.name, podProfile]]);
  const landlockSkipped: string[] = [];
  let wrapped = 0;
  const sandbox = <C extends V1Container | V1EphemeralContainer>(c: C, wrap: boolean, field: string): C => {
    const where = `container "${c.name}"`;
    findings.denials.push(...mountPathDenials(c.volumeMounts, field, where));
    const requested = annotations[CONTAINER_PROFILE_ANNOTATION_PREFIX + c.name];
    const picked = pickProfile(requested, `annotation for ${where}`, nsProfile, ctx.profiles);
    if (!picked.ok) {
      findings.denials.push(picked.denial);
      return c;
    }
    const profile = picked.profile;
    used.set(profile.name, profile);
    findings.denials.push(...mountsOverDelivery(c, where));
    if (wrap) findings.denials.push(...writableOverExecute(spec, own.volumes, c.volumeMounts, profile, field, where));
    // Not wrapped (ephemeral): its mounts stay as written, so podfence's own volume may be among them only
    // read-only (in init mode a writable mount would let it replace the wrapper the other containers start through).
    else findings.denials.push(...deliveryMountsOf(c, field, where));
    const sc = containerSecurity(c, profile, where, ctx.policy.onWeakening);
    addFindings(findings, sc);
    const secured = { ...c, securityContext: sc.securityContext };
    // Ephemeral containers (kubectl debug) get the security context but no wrapper: see docs/webhook.md.
    if (!wrap) return secured;
    const w = wrapContainer(secured as V1Container, profile, ctx, where);
    addFindings(findings, w);
    if (w.landlockSkipped) landlockSkipped.push(c.name);
    if (w.wrapped) wrapped++;
    return w.container as C;
  };
  // Field names count the pod's own init containers (podfence's, taken off above, comes back first).
  const initContainers = own.initContainers.map((c, i) => sandbox(c, true, `spec.initContainers[${i}]`));
  if (spec.containers) spec.containers = spec.containers.map((c, i) => sandbox(c, true, `spec.containers[${i}]`));
  if (spec.ephemeralContainers) {
    spec.ephemeralContainers = spec.ephemeralContainers.map((c, i) =>
      sandbox(c, false, `spec.ephemeralContainers[${i}]`),
    );
  }

  if (findings.denials.length) return { ok: false, denied: uniq(findings.denials).join('; ') };
  const warnings = findings.warnings;

  const delivered = deliver(spec, { initContainers, volumes: own.volumes }, wrapped > 0, podProfile, ctx.policy);
  setOrDelete(spec, 'initContainers', delivered.initContainers);
  setOrDelete(spec, 'volumes', delivered.volumes);

  // With CSI delivery, only nodes whose agent serves the driver can start the pod.
  const csiGate = wrapped > 0 && ctx.policy.helperDelivery === 'csi' ? [NODE_CSI_READY_LABEL] : [];
  const affinity = requireNodeLabels(spec.affinity, [...seccompLabelKeys(used.values()), ...csiGate]);
  if (affinity) spec.affinity = affinity;
  warnings.push(...notReadyWarnings(used.values()));

  pod.metadata.annotations = podfenceAnnotations(apparmor.annotations, podProfile, landlockSkipped);
  return { ok: true, pod, warnings };
}

function setOrDelete<K extends 'initContainers' | 'volumes'>(
  spec: NonNullable<V1Pod['spec']>,
  key: K,
  value: NonNullable<V1Pod['spec']>[K],
): void {
  if (value) spec[key] = value;
  else delete spec[key];
}
