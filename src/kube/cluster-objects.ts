import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

/** A cluster-scoped custom resource type. */
export interface ClusterResource {
  group: string;
  version: string;
  plural: string;
}

/**
 * Writes to cluster-scoped custom resources with JSON patches (client-node's default patch type), so every write
 * says exactly what it replaces. Status is written whole through the status subresource; finalizers are written
 * with a `test` on resourceVersion so a concurrent change makes the write fail (409/422) and the key requeue,
 * instead of clobbering someone else's finalizer.
 */
export class ClusterObjects {
  readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly resource: ClusterResource,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async list<T>(selectors: { fieldSelector?: string; labelSelector?: string } = {}): Promise<{
    metadata?: { resourceVersion?: string };
    items: T[];
  }> {
    return (await this.api.listClusterCustomObject({ ...this.resource, ...selectors })) as {
      metadata?: { resourceVersion?: string };
      items: T[];
    };
  }

  async get<T>(name: string): Promise<T> {
    return (await this.api.getClusterCustomObject({ ...this.resource, name })) as T;
  }

  async create<T>(body: object): Promise<T> {
    return (await this.api.createClusterCustomObject({ ...this.resource, body })) as T;
  }

  /** Replace `.status` as a whole (`add` also replaces an existing member). */
  async replaceStatus<T>(name: string, status: unknown): Promise<T> {
    return (await this.api.patchClusterCustomObjectStatus({
      ...this.resource,
      name,
      body: [{ op: 'add', path: '/status', value: status }],
    })) as T;
  }

  /** Set `metadata.finalizers` if the object is still at `resourceVersion`. */
  async setFinalizers<T>(name: string, resourceVersion: string, finalizers: string[]): Promise<T> {
    return (await this.api.patchClusterCustomObject({
      ...this.resource,
      name,
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
        { op: 'add', path: '/metadata/finalizers', value: finalizers },
      ],
    })) as T;
  }
}
