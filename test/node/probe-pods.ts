// Running the probe (test/e2e/probe.c) in pods and reading its verdicts back: shared by the e2e suite and the demo.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../cluster/net.js';

export const PROBE_IMAGE = 'localhost/podfence/probe:dev';

/** One `CHECK name=... result=... errno=... k=v...` line. */
export interface CheckResult {
  name: string;
  result: 'ok' | 'denied' | 'error';
  errno: string;
  fields: Record<string, string>;
  line: string;
}

/** The CHECK lines of a probe's output, by check name (pure). */
export function parseChecks(output: string): Record<string, CheckResult> {
  const out: Record<string, CheckResult> = {};
  for (const line of output.split('\n')) {
    if (!line.startsWith('CHECK ')) continue;
    const fields: Record<string, string> = {};
    for (const m of line.slice(6).matchAll(/(\w+)=(\S*)/g)) fields[m[1]!] = m[2]!;
    const { name, result, errno } = fields;
    if (!name || !result || errno === undefined) continue;
    out[name] = { name, result: result as CheckResult['result'], errno, fields, line };
  }
  return out;
}

export interface ProbePodSpec {
  namespace: string;
  name: string;
  /** Probe checks; omitted = no `command` in the pod, the image's entrypoint and cmd run. */
  checks?: string[];
  image?: string;
  imagePullPolicy?: 'Never' | 'IfNotPresent' | 'Always';
  labels?: Record<string, string>;
}

export function probePod(s: ProbePodSpec): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: s.name, namespace: s.namespace, labels: { app: 'podfence-probe', ...s.labels } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'probe',
          image: s.image ?? PROBE_IMAGE,
          imagePullPolicy: s.imagePullPolicy ?? 'Never',
          ...(s.checks ? { command: ['/bin/probe', ...s.checks] } : {}),
        },
      ],
    },
  };
}

/** Creates the pod (returns it as admitted, i.e. after the webhook). */
export async function createPod(kc: KubeConfig, pod: V1Pod): Promise<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  return core.createNamespacedPod({ namespace: pod.metadata!.namespace!, body: pod });
}

/** Why a pod is not making progress (for error messages): phase, container states, recent events. */
export async function podDiagnostics(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const parts: string[] = [];
  try {
    const pod = await core.readNamespacedPod({ namespace, name });
    parts.push(`phase=${pod.status?.phase} reason=${pod.status?.reason ?? ''} message=${pod.status?.message ?? ''}`);
    for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      parts.push(`container ${c.name}: ${JSON.stringify(c.state)}`);
    }
  } catch (err) {
    parts.push(`pod: ${(err as Error).message}`);
  }
  try {
    const ev = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
    for (const e of ev.items.slice(-8)) parts.push(`event ${e.reason}: ${e.message}`);
  } catch {
    // no events
  }
  return parts.join('\n');
}

/** Waits until the pod has finished (Succeeded/Failed) and returns its log. */
export async function waitForPodLog(
  kc: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs = 120_000,
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await waitFor(
      async () => {
        const pod = await core.readNamespacedPod({ namespace, name });
        return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      },
      timeoutMs,
      `pod ${namespace}/${name} has finished`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await podDiagnostics(kc, namespace, name)}`);
  }
  return core.readNamespacedPodLog({ namespace, name, container: 'probe' });
}

/** Waits until the pod runs and has an IP (e.g. the server the connect checks talk to). */
export async function waitForPodIP(
  kc: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs = 120_000,
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  let ip = '';
  try {
    await waitFor(
      async () => {
        const pod = await core.readNamespacedPod({ namespace, name });
        const ready = pod.status?.containerStatuses?.every((c) => c.state?.running);
        ip = pod.status?.podIP ?? '';
        return pod.status?.phase === 'Running' && !!ready && !!ip;
      },
      timeoutMs,
      `pod ${namespace}/${name} is running with an IP`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await podDiagnostics(kc, namespace, name)}`);
  }
  return ip;
}

/** Creates a namespace (labels optional) and waits for its `default` ServiceAccount (pods need it). */
export async function createNamespace(
  kc: KubeConfig,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels } } });
  await waitFor(
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    },
    30_000,
    `ServiceAccount ${name}/default exists`,
  );
}
