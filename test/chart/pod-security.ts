// Pure checks on rendered pod templates: the Pod Security Standard "restricted" (as kubernetes/pod-security-admission
// defines it, for the fields our chart can set) plus our own rule of a read-only root filesystem. The real
// apiserver's PodSecurity admission checks the same pods in dry-run.test.ts; this names each violation precisely.
import type { K8sObject } from './helm.js';

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
}
interface Container {
  name: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
}
export interface PodSpec {
  securityContext?: SecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'Job']);
/** Volume types "restricted" allows. */
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

export function podTemplates(objs: K8sObject[]): { owner: string; spec: PodSpec }[] {
  return objs
    .filter((o) => WORKLOAD_KINDS.has(o.kind))
    .map((o) => ({
      owner: `${o.kind}/${o.metadata.name}`,
      spec: (o as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec,
    }));
}

/** Every violation of "restricted" (and of readOnlyRootFilesystem) in one pod spec, as `<where>: <what>`. */
export function restrictedViolations(pod: PodSpec): string[] {
  const v: string[] = [];
  if (pod.hostNetwork) v.push('pod: hostNetwork');
  if (pod.hostPID) v.push('pod: hostPID');
  if (pod.hostIPC) v.push('pod: hostIPC');
  for (const vol of pod.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUMES.has(type)) v.push(`volume ${String(vol.name)}: type ${type}`);
  }
  const podSc = pod.securityContext ?? {};
  if (podSc.runAsUser === 0) v.push('pod: runAsUser 0');
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (nonRoot !== true) v.push(`${where}: runAsNonRoot not true`);
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) v.push(`${where}: runAsUser 0`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${where}: allowPrivilegeEscalation not false`);
    if (sc.privileged) v.push(`${where}: privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${where}: capabilities.drop lacks ALL`);
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== 'NET_BIND_SERVICE') v.push(`${where}: adds capability ${cap}`);
    const seccomp = (sc.seccompProfile ?? podSc.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      v.push(`${where}: seccompProfile ${seccomp ?? 'unset'}`);
    if (sc.readOnlyRootFilesystem !== true) v.push(`${where}: readOnlyRootFilesystem not true`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${where}: hostPort ${p.hostPort}`);
  }
  return v;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** RBAC rules that are wider than least privilege: wildcards, privilege-granting verbs, cluster-wide Secret lists. */
export function rbacProblems(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objs.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
    const rules = (o as unknown as { rules?: PolicyRule[] }).rules ?? [];
    rules.forEach((r, i) => {
      const where = `${o.kind}/${o.metadata.name} rule ${i}`;
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'] as const) {
        if ((r[field] ?? []).some((x) => x.includes('*'))) problems.push(`${where}: wildcard in ${field}`);
      }
      for (const verb of ['escalate', 'bind', 'impersonate', 'deletecollection']) {
        if (r.verbs?.includes(verb)) problems.push(`${where}: verb ${verb}`);
      }
      if (r.nonResourceURLs?.length) problems.push(`${where}: nonResourceURLs`);
      if (r.resources?.includes('secrets') && r.verbs?.some((vb) => vb === 'list' || vb === 'watch')) {
        problems.push(`${where}: list/watch on secrets`);
      }
      if (r.resources?.includes('secrets') && r.verbs?.some((vb) => vb !== 'get') && o.kind === 'ClusterRole') {
        problems.push(`${where}: cluster-wide write on secrets`);
      }
    });
  }
  return problems;
}
