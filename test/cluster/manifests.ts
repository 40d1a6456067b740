// Applying YAML manifests (CRDs, test fixtures) to a cluster with server-side apply, and waiting for CRDs.
import { readFileSync } from 'node:fs';
import {
  ApiextensionsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { waitFor } from './net.js';

export const FIELD_MANAGER = 'podfence-tests';

/** The non-empty documents of a multi-document YAML text. */
export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`invalid YAML: ${d.errors[0]?.message}`);
      return d.toJSON() as KubernetesObject | null;
    })
    .filter((o): o is KubernetesObject => !!o && typeof o === 'object' && !!o.kind);
}

/** Server-side applies every object of the files, in order; returns what was applied. */
export async function applyManifestFiles(kc: KubeConfig, paths: string[]): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: KubernetesObject[] = [];
  for (const path of paths) {
    for (const obj of parseManifests(readFileSync(path, 'utf8'))) {
      try {
        applied.push(await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
      } catch (err) {
        throw new Error(`applying ${obj.kind} ${obj.metadata?.name ?? ''} from ${path}: ${errorText(err)}`);
      }
    }
  }
  return applied;
}

/** Waits until each named CustomResourceDefinition has condition Established=True. */
export async function waitForCRDsEstablished(kc: KubeConfig, names: string[], timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const name of names) {
    await waitFor(
      async () => {
        const crd = await api.readCustomResourceDefinition({ name });
        return !!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      timeoutMs,
      `CRD ${name} is Established`,
    );
  }
}

/** The message of a client-node ApiException (the Status body's message) or any other error. */
export function errorText(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      return body;
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return err instanceof Error ? err.message : String(err);
}
