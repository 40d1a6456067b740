import { readFileSync } from 'node:fs';
import type { V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { parseAllDocuments, stringify } from 'yaml';
import { RegistryClient } from '../registry/client.js';
import { parseDockerConfig } from '../registry/credentials.js';
import { mutate, type Lookups } from '../webhook/admission.js';
import { entrypointResolver } from '../webhook/image-entrypoints.js';
import { profileInfoOf } from '../webhook/lookups.js';
import type { ProfileLookup } from '../webhook/types.js';
import type { ProfileObject } from '../model/objects.js';
import jsonpatch, { type Operation } from 'fast-json-patch';

interface PreviewFlags {
  profile: string;
  file: string;
  use?: string;
  offline?: boolean;
  initImage: string;
  onWeakening: string;
  onUnresolvedEntrypoint: string;
  insecureRegistry: string[];
  dockerConfig?: string;
}

function readDocs(path: string): unknown[] {
  const text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d && typeof d === 'object');
}

/** A Pod, or the pod template of a workload (Deployment, Job, CronJob, ...), as a Pod. */
function podOf(doc: Record<string, unknown>): V1Pod {
  if (doc.kind === 'Pod') return doc as V1Pod;
  const spec = doc.spec as { template?: V1PodTemplateSpec; jobTemplate?: { spec?: { template?: V1PodTemplateSpec } } };
  const t = spec?.template ?? spec?.jobTemplate?.spec?.template;
  if (!t) throw new Error(`${String(doc.kind)} has no pod template`);
  const meta = (doc.metadata ?? {}) as { name?: string; namespace?: string };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: meta.name, namespace: meta.namespace, ...t.metadata },
    spec: t.spec,
  };
}

const collect = (v: string, prev: string[]) => [...prev, ...v.split(',').filter(Boolean)];

/** `podfence preview`: the webhook's own code path on local files, no cluster needed. */
export function register(program: Command): void {
  program
    .command('preview')
    .description('Print the pod as podfence would admit it (or why it would be denied), offline')
    .requiredOption('--profile <file>', 'SandboxProfile YAML (several documents: all are available for overrides)')
    .requiredOption('-f, --file <file>', 'Pod or workload YAML (- for stdin)')
    .option('--use <name>', "the namespace's profile (default: the first in --profile)")
    .option('--offline', 'never contact registries: containers without `command` count as unresolved')
    .option('--init-image <ref>', 'podfence helper image', 'localhost/podfence/init:dev')
    .option('--on-weakening <policy>', 'deny | overwrite', 'deny')
    .option('--on-unresolved-entrypoint <policy>', 'deny | skip-landlock', 'deny')
    .option('--insecure-registry <host:port>', 'registries spoken to over plain HTTP', collect, [])
    .option('--docker-config <file>', 'docker config.json with registry credentials')
    .action(async (flags: PreviewFlags) => {
      const profiles: Record<string, ProfileLookup> = {};
      let first: string | undefined;
      for (const doc of readDocs(flags.profile)) {
        const name = (doc as { metadata?: { name?: string } }).metadata?.name ?? '?';
        const r = profileInfoOf(doc as ProfileObject);
        // Offline there is no controller: treat the profile as installed.
        profiles[name] = r.ok ? { ok: true, profile: { ...r.profile, ready: true } } : r;
        first ??= name;
      }
      const nsProfile = flags.use ?? first;
      if (!nsProfile) throw new Error(`no SandboxProfile in ${flags.profile}`);
      const lookups: Lookups = { namespaceProfile: () => nsProfile, profile: (n) => profiles[n] };
      const dockerConfigs = flags.dockerConfig ? [parseDockerConfig(readFileSync(flags.dockerConfig, 'utf8'))] : [];
      const resolve = flags.offline
        ? async (pod: V1Pod) =>
            Object.fromEntries(
              [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [
                c.name,
                { ok: false as const, error: 'offline: registry not contacted' },
              ]),
            )
        : entrypointResolver(new RegistryClient({ plainHttp: flags.insecureRegistry }), async () => dockerConfigs);
      let failed = false;
      for (const doc of readDocs(flags.file)) {
        const pod = podOf(doc as Record<string, unknown>);
        const res = await mutate(
          {
            uid: 'preview',
            kind: { group: '', version: 'v1', kind: 'Pod' },
            operation: 'CREATE',
            namespace: pod.metadata?.namespace ?? 'default',
            object: pod,
          },
          {
            lookups,
            resolveEntrypoints: resolve,
            excludedNamespaces: [],
            policy: {
              initImage: flags.initImage,
              onWeakening: flags.onWeakening === 'overwrite' ? 'overwrite' : 'deny',
              onUnresolvedEntrypoint: flags.onUnresolvedEntrypoint === 'skip-landlock' ? 'skip-landlock' : 'deny',
            },
          },
        );
        for (const w of res.warnings ?? []) process.stderr.write(`Warning: ${w}\n`);
        if (!res.allowed) {
          process.stderr.write(`denied: ${res.status?.message ?? 'denied'}\n`);
          failed = true;
          continue;
        }
        const ops = res.patch ? (JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')) as Operation[]) : [];
        const out = jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument;
        process.stdout.write('---\n' + stringify(out));
      }
      if (failed) process.exitCode = 1;
    });
}
