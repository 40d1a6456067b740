// The harness itself, on clusters of its own (not the shared one): an apiserver restart keeps etcd's data and the
// port, minted kubeconfigs authenticate as the user and groups asked for (a kubelet's node identity), the
// `kubernetes` Service is published when an address is advertised, and stop() leaves no process behind.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { networkInterfaces } from 'node:os';
import { AuthenticationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { jest } from '@jest/globals';
import { startCluster, type TestCluster } from '../cluster/harness.js';

jest.setTimeout(120_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line names the cluster's directory (what `pgrep -f` would find). */
function pidsOf(cluster: TestCluster): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`${cluster.dir}/`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function hostAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

describe('a bare cluster (etcd + kube-apiserver)', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test('an apiserver restart keeps the data, the port and the credentials', async () => {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'survives-restart' } } });
    await cluster.stopApiserver();
    await expect(core.readNamespace({ name: 'survives-restart' })).rejects.toThrow();
    await cluster.startApiserver();
    const ns = await core.readNamespace({ name: 'survives-restart' });
    expect(ns.metadata?.name).toBe('survives-restart');
  });

  test('a minted kubeconfig authenticates as the given user and groups', async () => {
    const path = await cluster.writeKubeconfig('node1.kubeconfig', 'system:node:node1', ['system:nodes']);
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('system:node:node1');
    expect(review.status?.userInfo?.groups).toContain('system:nodes');
    // The Node authorizer and NodeRestriction let a node create its own Node object, not another node's.
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNode({ body: { metadata: { name: 'node1' } } });
    await expect(core.createNode({ body: { metadata: { name: 'node2' } } })).rejects.toMatchObject({ code: 403 });
  });

  test('stop() kills every process and removes the directory', async () => {
    const pids = pidsOf(cluster);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    await cluster.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(cluster.dir)).toBe(false);
  });
});

describe('a cluster with controllers, advertising a host address', () => {
  const address = hostAddress();
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ withControllers: true, bindAddress: '0.0.0.0', advertiseAddress: address });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test('the kubernetes Service points at the advertised address, reachable with the cluster CA', async () => {
    expect(address).toBeDefined();
    expect(cluster.apiserverUrl).toBe(`https://${address}:${new URL(cluster.apiserverUrl).port}`);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const svc = await core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
    expect(svc.spec?.clusterIP).toBe('10.96.0.1');
    const ep = await core.readNamespacedEndpoints({ name: 'kubernetes', namespace: 'default' });
    expect(ep.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual([address]);
  });

  test('controllers run: namespaces get a default ServiceAccount and the root CA, and deletion completes', async () => {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'with-controllers' } } });
    const until = async (check: () => Promise<boolean>) => {
      for (const end = Date.now() + 90_000; Date.now() < end;) {
        if (await check().catch(() => false)) return true;
        await new Promise((r) => setTimeout(r, 200));
      }
      return false;
    };
    expect(
      await until(
        async () => !!(await core.readNamespacedServiceAccount({ name: 'default', namespace: 'with-controllers' })),
      ),
    ).toBe(true);
    expect(
      await until(async () => {
        const cm = await core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: 'with-controllers' });
        return !!cm.data?.['ca.crt']?.includes('BEGIN CERTIFICATE');
      }),
    ).toBe(true);
    await core.deleteNamespace({ name: 'with-controllers' });
    expect(
      await until(async () => {
        try {
          await core.readNamespace({ name: 'with-controllers' });
          return false;
        } catch (err) {
          return (err as { code?: number }).code === 404;
        }
      }),
    ).toBe(true);
  });
});

describe('a cluster whose Node process dies', () => {
  test.each(['SIGKILL', 'SIGINT'] as const)(
    '%s to the Node process takes every cluster process with it',
    async (signal) => {
      // A separate Node process starts a cluster through the plain-Node loader (as jest's global setup does).
      const script = `
      const { loadClusterModule } = await import(${JSON.stringify(join(process.cwd(), 'test/cluster/load-harness.js'))});
      const { startCluster } = await loadClusterModule('harness');
      const c = await startCluster();
      console.log('DIR ' + c.dir);
      setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise((r) => child.on('exit', r));
      const deadline = Date.now() + 60_000;
      while (!/DIR (\S+)/.test(out) && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const dir = /DIR (\S+)/.exec(out)?.[1];
      expect(dir).toBeDefined();
      const pids = pidsOf({ dir } as TestCluster);
      expect(pids.length).toBe(2); // etcd and kube-apiserver
      child.kill(signal);
      await exited;
      const gone = Date.now() + 60_000;
      while (pids.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(pids.filter(alive)).toEqual([]);
      // A killed process cannot tidy up its temporary directory: the test does.
      rmSync(dir ?? '/nonexistent', { recursive: true, force: true });
    },
  );
});
