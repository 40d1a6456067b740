import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RegistryClient } from '../registry/client.js';
import { credentialsFor, parseDockerConfig, type DockerConfig } from '../registry/credentials.js';
import { needsImageEntrypoint } from './effective-command.js';
import type { ResolvedEntrypoints } from './types.js';

/** Where pull credentials come from: the pod's imagePullSecrets and its service account's. */
export type PullSecretSource = (pod: V1Pod, namespace: string) => Promise<DockerConfig[]>;

/**
 * Resolves the image config of every init and regular container without `command`, in parallel. Pull secrets are
 * read at most once per request, and only when a registry asks for credentials (cache hits and public images
 * read none).
 */
export function entrypointResolver(client: RegistryClient, secrets: PullSecretSource) {
  return async (pod: V1Pod, namespace: string): Promise<ResolvedEntrypoints> => {
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].filter(
      (c) => needsImageEntrypoint(c) && c.image,
    );
    if (!containers.length) return {};
    let configs: Promise<DockerConfig[]> | undefined;
    const out: ResolvedEntrypoints = {};
    await Promise.all(
      containers.map(async (c) => {
        try {
          const info = await client.resolve(c.image as string, async (ref) => {
            configs ??= secrets(pod, namespace);
            return credentialsFor(await configs, ref.registry, ref.repository);
          });
          out[c.name] = { ok: true, entrypoint: info.entrypoint, cmd: info.cmd };
        } catch (err) {
          out[c.name] = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    return out;
  };
}

/** Reads the dockerconfigjson Secrets a pod may pull with (missing or malformed ones are skipped, logged). */
export function kubePullSecrets(kc: KubeConfig, log?: Logger): PullSecretSource {
  const core = kc.makeApiClient(CoreV1Api);
  return async (pod, namespace) => {
    const names = new Set((pod.spec?.imagePullSecrets ?? []).map((s) => s.name).filter((n): n is string => !!n));
    const sa = pod.spec?.serviceAccountName || 'default';
    try {
      const account = await core.readNamespacedServiceAccount({ name: sa, namespace });
      for (const s of account.imagePullSecrets ?? []) if (s.name) names.add(s.name);
    } catch (err) {
      log?.debug({ err: String(err), namespace, sa }, 'service account not readable');
    }
    const configs: DockerConfig[] = [];
    for (const name of names) {
      try {
        const secret = await core.readNamespacedSecret({ name, namespace });
        const data = secret.data?.['.dockerconfigjson'] ?? secret.data?.['.dockercfg'];
        if (data) configs.push(parseDockerConfig(Buffer.from(data, 'base64').toString('utf8')));
      } catch (err) {
        log?.warn({ err: String(err), namespace, secret: name }, 'imagePullSecret not usable');
      }
    }
    return configs;
  };
}
