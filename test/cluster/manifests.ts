// Applying YAML manifests (CRDs, test fixtures) to a cluster with server-side apply, and waiting for CRDs.
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { ApiextensionsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
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

/**
 * Server-side applies every object of the files, in order; returns the objects as the apiserver answered.
 *
 * Raw HTTP on purpose: client-node's KubernetesObjectApi passes known kinds through its typed models, which drop
 * the JSON names they spell differently (`enum`, `x-kubernetes-validations`, ...): a CRD applied that way loses
 * its enums and CEL rules without any error.
 */
export async function applyManifestFiles(kc: KubeConfig, paths: string[]): Promise<KubernetesObject[]> {
  const applied: KubernetesObject[] = [];
  for (const path of paths) {
    for (const obj of parseManifests(readFileSync(path, 'utf8'))) {
      try {
        applied.push(await serverSideApply(kc, obj));
      } catch (err) {
        throw new Error(`applying ${obj.kind} ${obj.metadata?.name ?? ''} from ${path}: ${errorText(err)}`);
      }
    }
  }
  return applied;
}

/** One object, server-side applied (forced, field manager FIELD_MANAGER). */
export async function serverSideApply(kc: KubeConfig, obj: KubernetesObject): Promise<KubernetesObject> {
  const { apiVersion, kind } = obj;
  const name = obj.metadata?.name;
  if (!apiVersion || !kind || !name) throw new Error('apiVersion, kind and metadata.name are required');
  const resource = await discoverResource(kc, apiVersion, kind);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = resource.namespaced ? `/namespaces/${obj.metadata?.namespace ?? 'default'}` : '';
  const query = `fieldManager=${FIELD_MANAGER}&force=true`;
  const res = await rawRequest(kc, 'PATCH', `${base}${ns}/${resource.name}/${name}?${query}`, JSON.stringify(obj), {
    'Content-Type': 'application/apply-patch+yaml',
  });
  if (res.status >= 300) throw new HttpError(res.status, res.body);
  return JSON.parse(res.body) as KubernetesObject;
}

/** The resource (plural name, scope) serving `kind` in `apiVersion`; waits a little for a CRD just created. */
async function discoverResource(
  kc: KubeConfig,
  apiVersion: string,
  kind: string,
): Promise<{ name: string; namespaced: boolean }> {
  const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  let found: { name: string; namespaced: boolean } | undefined;
  await waitFor(
    async () => {
      const res = await rawRequest(kc, 'GET', path);
      if (res.status !== 200) return false;
      const list = JSON.parse(res.body) as { resources: { name: string; kind: string; namespaced: boolean }[] };
      found = list.resources.find((r) => r.kind === kind && !r.name.includes('/'));
      return !!found;
    },
    15_000,
    `the apiserver serves ${kind} in ${apiVersion}`,
  );
  return found as { name: string; namespaced: boolean };
}

/** An error with the apiserver's Status body, readable by errorText(). */
export class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}: ${body.slice(0, 500)}`);
  }
}

/** A request to the kubeconfig's current cluster with its credentials. */
export async function rawRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const opts: RequestOptions = { method, headers: { Accept: 'application/json', ...headers } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), opts, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
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
