import type { V1Pod } from '@kubernetes/client-node';
import { CONTAINER_PROFILE_ANNOTATION_PREFIX, PROFILE_LABEL } from '../common/constants.js';
import { jsonPatch } from './json-patch.js';
import { mutatePod } from './mutation/mutate.js';
import type { ProfileInfo, ProfileLookup, ResolvedEntrypoints, WebhookPolicy } from './types.js';

/** The fields of an `admission.k8s.io/v1` AdmissionReview request the webhook reads. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  namespace?: string;
  operation: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

/** What the handler looks up; informer-backed in the server, plain objects in tests. */
export interface Lookups {
  /** The namespace's `podfence.dev/profile` label (undefined: namespace not opted in or unknown). */
  namespaceProfile(namespace: string): string | undefined;
  /** A compiled profile, or its error when it exists but is invalid; undefined when it does not exist. */
  profile(name: string): ProfileLookup | undefined;
}

export interface HandlerDeps {
  lookups: Lookups;
  policy: WebhookPolicy;
  /** Image entrypoints of the containers without `command` (only called for those). */
  resolveEntrypoints(pod: V1Pod, namespace: string): Promise<ResolvedEntrypoints>;
  /** Never mutated (the operator's own namespace, kube-system). */
  excludedNamespaces: string[];
}

export class BadRequest extends Error {}

/** Checks the envelope of an AdmissionReview; anything off is a 400 (the apiserver never sends such a body). */
export function parseReview(body: unknown): AdmissionRequest {
  if (!body || typeof body !== 'object') throw new BadRequest('body is not a JSON object');
  const r = body as { apiVersion?: unknown; kind?: unknown; request?: unknown };
  if (r.apiVersion !== 'admission.k8s.io/v1' || r.kind !== 'AdmissionReview') {
    throw new BadRequest('expected an admission.k8s.io/v1 AdmissionReview');
  }
  const req = r.request as Partial<AdmissionRequest> | undefined;
  if (!req || typeof req !== 'object' || typeof req.uid !== 'string' || !req.uid) {
    throw new BadRequest('AdmissionReview has no request.uid');
  }
  if (typeof req.operation !== 'string' || !req.kind || typeof req.kind !== 'object') {
    throw new BadRequest('AdmissionReview request lacks operation or kind');
  }
  return req as AdmissionRequest;
}

export function reviewOf(response: AdmissionResponse): object {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** The apiserver truncates warnings over 256 characters and drops long lists; keep ours inside that. */
function fitWarnings(ws: string[]): string[] {
  return [...new Set(ws)].slice(0, 10).map((w) => (w.length > 250 ? w.slice(0, 249) + '…' : w));
}

function deny(uid: string, message: string, code = 403): AdmissionResponse {
  return { uid, allowed: false, status: { code, message, reason: code === 403 ? 'Forbidden' : 'BadRequest' } };
}

/** The profile names a pod may use (namespace label, pod and container annotations). */
function wantedProfiles(pod: V1Pod, nsProfile: string): string[] {
  const names = new Set([nsProfile]);
  for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) {
    if (k === PROFILE_LABEL || k.startsWith(CONTAINER_PROFILE_ANNOTATION_PREFIX)) names.add(v);
  }
  return [...names];
}

/** /mutate: one AdmissionRequest in, one AdmissionResponse out. Never throws for a well-formed review. */
export async function mutate(req: AdmissionRequest, deps: HandlerDeps): Promise<AdmissionResponse> {
  const uid = req.uid;
  if (req.kind.kind !== 'Pod' || req.kind.group !== '' || req.kind.version !== 'v1') {
    return deny(uid, `podfence's mutating webhook handles v1 Pods only, got ${req.kind.group}/${req.kind.kind}`, 400);
  }
  // CREATE, and UPDATE through the ephemeralcontainers subresource (kubectl debug); other operations pass.
  const sub = req.subResource ?? '';
  if (!(req.operation === 'CREATE' && sub === '') && !(req.operation === 'UPDATE' && sub === 'ephemeralcontainers')) {
    return { uid, allowed: true };
  }
  const namespace = req.namespace ?? (req.object as V1Pod | undefined)?.metadata?.namespace ?? '';
  if (!req.object || typeof req.object !== 'object') return deny(uid, 'AdmissionReview request has no object', 400);
  const pod = req.object as V1Pod;
  if (!pod.spec || !Array.isArray(pod.spec.containers)) return deny(uid, 'pod has no spec.containers', 400);
  if (deps.excludedNamespaces.includes(namespace)) return { uid, allowed: true };
  const nsProfile = deps.lookups.namespaceProfile(namespace);
  if (!nsProfile) return { uid, allowed: true };

  const profiles: Record<string, ProfileInfo | undefined> = {};
  for (const name of wantedProfiles(pod, nsProfile)) {
    const p = deps.lookups.profile(name);
    if (p && !p.ok) {
      if (name === nsProfile) return deny(uid, `podfence: SandboxProfile "${name}" is invalid: ${p.error}`);
      continue;
    }
    profiles[name] = p?.profile;
  }
  let entrypoints: ResolvedEntrypoints = {};
  const audit = profiles[nsProfile]?.mode === 'audit' && Object.keys(profiles).length === 1;
  if (req.operation === 'CREATE' && !audit) entrypoints = await deps.resolveEntrypoints(pod, namespace);

  const result = mutatePod(pod, { namespaceProfile: nsProfile, profiles, entrypoints, policy: deps.policy });
  if (!result.ok) return deny(uid, `podfence: ${result.denied}`);
  const ops = jsonPatch(pod, result.pod);
  const response: AdmissionResponse = { uid, allowed: true };
  if (ops.length) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
  }
  if (result.warnings.length) response.warnings = fitWarnings(result.warnings);
  return response;
}
