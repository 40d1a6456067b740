// What the e2e suites that run the probe in pods share (escapes.test.ts, sandbox.test.ts): the probes' verdicts by
// pod and check, the wait for a SandboxProfile to be Ready, and the podfence/kubelet log tails for a failure.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { logTail } from '../cluster/processes.js';
import { parseChecks, type CheckResult } from '../node/probe-pods.js';
import type { Stack } from '../node/stack.js';

/** Each probe run's log and CHECK lines, by a key the suite chooses (one per pod, or per pod and namespace). */
export class ProbeResults {
  readonly logs: Record<string, string> = {};
  readonly results: Record<string, Record<string, CheckResult>> = {};

  record(key: string, log: string): void {
    this.logs[key] = log;
    this.results[key] = parseChecks(log);
  }

  /** One check's verdict; a missing one fails with the pod's whole log. */
  check(key: string, name: string): CheckResult {
    const r = this.results[key]?.[name];
    if (!r) throw new Error(`no CHECK line ${name} from ${key}; its log:\n${this.logs[key] ?? '(none)'}`);
    return r;
  }
}

export async function profileReady(kc: KubeConfig, name: string): Promise<boolean> {
  const p = (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({
    group: 'podfence.dev',
    version: 'v1alpha1',
    plural: 'sandboxprofiles',
    name,
  })) as { status?: { conditions?: { type: string; status: string }[] } };
  return !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The last lines of podfence's and the kubelet's logs, for an error message. */
export function stackDiagnostics(stack: Stack | undefined): string {
  if (!stack) return '';
  return Object.entries(stack.logs())
    .filter(([k]) => k.startsWith('podfence') || k === 'kubelet')
    .map(([k, path]) => `--- ${k} (${path})\n${logTail(path, 15)}`)
    .join('\n');
}
