import type { KubeConnection } from './access.js';
import { KubeRest } from './rest.js';

/** A cluster-scoped custom resource type. */
export interface ClusterResource {
  group: string;
  version: string;
  plural: string;
}

/**
 * Writes to cluster-scoped custom resources with JSON patches, so every write says exactly what it replaces. Status
 * is written whole through the status subresource; finalizers are written with a `test` on resourceVersion so a
 * concurrent change makes the write fail (409/422) and the key requeue, instead of clobbering someone else's
 * finalizer.
 */
export class ClusterObjects {
  private readonly rest: KubeRest;
  private readonly base: string;

  constructor(
    kubeConfig: KubeConnection,
    private readonly resource: ClusterResource,
  ) {
    this.rest = new KubeRest(kubeConfig);
    this.base = `/apis/${resource.group}/${resource.version}/${resource.plural}`;
  }

  /** Every object (paginated), each passed through `transform` as its page arrives. */
  async list<T>(
    selectors: { fieldSelector?: string; labelSelector?: string } = {},
    transform?: (o: T) => T,
  ): Promise<{ metadata?: { resourceVersion?: string }; items: T[] }> {
    return this.rest.list<T>(this.base, selectors, transform);
  }

  async get<T>(name: string): Promise<T> {
    return this.rest.request<T>('GET', `${this.base}/${encodeURIComponent(name)}`);
  }

  async create<T>(body: object): Promise<T> {
    return this.rest.request<T>('POST', this.base, { body });
  }

  /** Replace `.status` as a whole (`add` also replaces an existing member). */
  async replaceStatus<T>(name: string, status: unknown): Promise<T> {
    return this.rest.request<T>('PATCH', `${this.base}/${encodeURIComponent(name)}/status`, {
      body: [{ op: 'add', path: '/status', value: status }],
    });
  }

  /** Set `metadata.finalizers` if the object is still at `resourceVersion`. */
  async setFinalizers<T>(name: string, resourceVersion: string, finalizers: string[]): Promise<T> {
    return this.rest.request<T>('PATCH', `${this.base}/${encodeURIComponent(name)}`, {
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
        { op: 'add', path: '/metadata/finalizers', value: finalizers },
      ],
    });
  }
}
