import { AppsV1Api, CoreV1Api, CustomObjectsApi, type CoreV1Event } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { API_VERSION, DENIED_EVENT_REASON, GROUP, PROFILE_KIND, PROFILE_PLURAL, VERSION } from '../common/constants.js';
import { loadKubeConfig } from '../common/kube.js';
import type { SandboxProfile } from '../profile/schema.js';
import { denialFromEvent, suggestChanges, type RecordedDenial, type Suggestion } from './suggest-changes.js';

interface SuggestFlags {
  kubeconfig?: string;
  namespace: string;
}

/** `pod/NAME`, `deployment/NAME` (or `deploy/`), or nothing for the whole namespace. */
function parseTarget(target: string | undefined): { kind: 'pod' | 'deployment' | 'namespace'; name?: string } {
  if (!target) return { kind: 'namespace' };
  const m = /^(pod|pods|po|deployment|deployments|deploy)\/([a-z0-9.-]+)$/.exec(target);
  if (!m) throw new Error(`target "${target}": expected pod/NAME or deployment/NAME (or nothing: the whole namespace)`);
  return { kind: m[1]!.startsWith('d') ? 'deployment' : 'pod', name: m[2]! };
}

/** The YAML a user applies, with what changed and why (and the warnings) as comments above it. */
export function renderSuggestion(s: Suggestion, where: string, denials: number): string {
  const lines = [`# podfence suggest: ${denials} recorded denial(s) of profile ${s.profile} in ${where}`];
  for (const c of s.changes) lines.push(`#   ${c.field}: ${String(c.value)}  <- ${c.because}`);
  for (const c of s.changes.filter((x) => x.dangerous)) {
    lines.push(`# WARNING: ${c.field} ${String(c.value)}: ${c.dangerous}; prefer a narrower grant`);
  }
  for (const n of s.notes) lines.push(`# NOTE: ${n}`);
  if (!s.changes.length) lines.push('# no profile change would allow these denials');
  const obj = { apiVersion: API_VERSION, kind: PROFILE_KIND, metadata: { name: s.profile }, spec: s.spec };
  return `${lines.join('\n')}\n${stringify(obj)}`;
}

/**
 * `podfence suggest`: reads the PodfenceDenied Events of a pod, a Deployment's pods or a namespace and prints,
 * per profile, the SandboxProfile that would allow them (YAML, to review and apply).
 */
export function register(program: Command): void {
  program
    .command('suggest')
    .description('Print the profile change that would allow the denials recorded for a pod, Deployment or namespace')
    .argument('[target]', 'pod/NAME or deployment/NAME; omitted: every pod of the namespace')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .action(async (target: string | undefined, flags: SuggestFlags) => {
      const t = parseTarget(target);
      const kc = loadKubeConfig(flags.kubeconfig);
      const core = kc.makeApiClient(CoreV1Api);
      const ns = flags.namespace;
      const events: CoreV1Event[] = (
        await core.listNamespacedEvent({
          namespace: ns,
          fieldSelector: `reason=${DENIED_EVENT_REASON},involvedObject.kind=Pod`,
        })
      ).items;
      let pods: (name: string) => boolean = () => true;
      if (t.kind === 'pod') pods = (n) => n === t.name;
      if (t.kind === 'deployment') {
        const dep = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: t.name!, namespace: ns });
        const labels = dep.spec?.selector?.matchLabels ?? {};
        const selector = Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        const current = new Set(
          (await core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items.map((p) => p.metadata?.name),
        );
        // Pods gone since (rolled, crashed) still have their Events: their names start with the Deployment's.
        pods = (n) => current.has(n) || n.startsWith(`${t.name}-`);
      }
      const denials: RecordedDenial[] = events
        .filter((e) => pods(e.involvedObject?.name ?? ''))
        .map(denialFromEvent)
        .filter((d): d is RecordedDenial => !!d);
      const where = t.kind === 'namespace' ? `namespace ${ns}` : `${t.kind}/${t.name} in ${ns}`;
      if (!denials.length) {
        process.stdout.write(
          `# podfence suggest: no PodfenceDenied events for ${where} (events expire, 1 h by default)\n`,
        );
        return;
      }
      const api = kc.makeApiClient(CustomObjectsApi);
      const docs: string[] = [];
      for (const name of [...new Set(denials.map((d) => d.profile))].sort()) {
        const profile = (await api.getClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PROFILE_PLURAL,
          name,
        })) as SandboxProfile;
        const mine = denials.filter((d) => d.profile === name);
        docs.push(
          renderSuggestion(
            suggestChanges(profile, mine),
            where,
            mine.reduce((n, d) => n + d.count, 0),
          ),
        );
      }
      process.stdout.write(docs.join('---\n'));
    });
}
