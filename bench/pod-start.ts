// Pod start time, sandboxed vs unsandboxed, on the real node (docs/benchmarks.md, "Pod start").
//
//   npm run bench:pod-start -- [--pairs 20] [--mode csi|init]      (root; run under flock /tmp/pf-node.lock)
//
// Starts the whole stack (control plane, real kubelet+containerd+runc node, podfence's controller, webhook and node
// agent; test/node/stack.ts), then creates the same pod (the probe image running `busybox sleep`) N times in an
// opted-in namespace and N times in an unlabelled one, alternating within each pair (the order flips every pair so
// neither side always follows a deletion). Each time is from the create call to the watch event that shows the
// pod Ready; the pod is then deleted and gone before the next one starts. --mode picks how the webhook delivers
// podfence-init (`PODFENCE_HELPER_DELIVERY` for the webhook); the mode printed is the one seen on the admitted pod.
// Last line: `pod start: sandboxed <s> s, unsandboxed <s> s, ratio <r> (<n> pairs, mode csi|init)`.
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../test/cluster/net.js';
import { createNamespace, PROBE_IMAGE } from '../test/node/probe-pods.js';
import { REPO_ROOT, startStack } from '../test/node/stack.js';
import { applyManifestFiles } from '../test/cluster/manifests.js';

export interface PodStartOptions {
  pairs: number;
  mode: 'csi' | 'init';
  log: (m: string) => void;
}

const NS = { sandboxed: 'bench-sandboxed', plain: 'bench-plain' };
const PROFILE = 'e2e-web';

function benchPod(namespace: string, name: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'main',
          image: PROBE_IMAGE,
          imagePullPolicy: 'Never',
          command: ['/bin/busybox', 'sleep', '3600'],
        },
      ],
    },
  };
}

const isReady = (p: V1Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Resolves when the named pod is seen Ready by a watch started before the create. */
class ReadyWatcher {
  private waiting = new Map<string, (t: number) => void>();
  private aborts: { abort(): void }[] = [];

  async start(kc: KubeConfig, namespaces: string[]): Promise<void> {
    for (const ns of namespaces) {
      const req = await new Watch(kc).watch(
        `/api/v1/namespaces/${ns}/pods`,
        { allowWatchBookmarks: false },
        (type: string, pod: V1Pod) => {
          if (type === 'DELETED' || !isReady(pod)) return;
          const key = `${ns}/${pod.metadata?.name}`;
          const done = this.waiting.get(key);
          if (done) {
            this.waiting.delete(key);
            done(performance.now());
          }
        },
        () => undefined,
      );
      this.aborts.push(req);
    }
  }

  readyAt(ns: string, name: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${ns}/${name} not Ready after ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(`${ns}/${name}`, (at) => {
        clearTimeout(t);
        resolve(at);
      });
    });
  }

  stop(): void {
    for (const a of this.aborts) a.abort();
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function runPodStartBench(o: PodStartOptions): Promise<string> {
  process.env.PODFENCE_HELPER_DELIVERY = o.mode;
  const stack = await startStack({ log: o.log });
  const kc = stack.cluster.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const watcher = new ReadyWatcher();
  try {
    await applyManifestFiles(kc, [join(REPO_ROOT, 'test', 'e2e', 'profiles.yaml')]);
    await createNamespace(kc, NS.sandboxed, { 'podfence.dev/profile': PROFILE });
    await createNamespace(kc, NS.plain);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await waitFor(
      async () => {
        const p = (await custom.getClusterCustomObject({
          group: 'podfence.dev',
          version: 'v1alpha1',
          plural: 'sandboxprofiles',
          name: PROFILE,
        })) as { status?: { conditions?: { type: string; status: string }[] } };
        return !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      120_000,
      `profile ${PROFILE} Ready`,
    );
    await watcher.start(kc, [NS.sandboxed, NS.plain]);

    let seenMode = '';
    const once = async (ns: string, name: string): Promise<number> => {
      const ready = watcher.readyAt(ns, name, 180_000);
      const t0 = performance.now();
      const admitted = await core.createNamespacedPod({ namespace: ns, body: benchPod(ns, name) });
      const t1 = await ready;
      if (ns === NS.sandboxed) {
        const csi = admitted.spec?.volumes?.some((v) => v.csi?.driver === 'podfence.dev');
        const init = admitted.spec?.initContainers?.some((c) => c.name === 'podfence-init');
        seenMode = csi && !init ? 'csi' : init && !csi ? 'init' : `unclear (csi ${csi}, init ${init})`;
      }
      await core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 });
      await waitFor(
        async () => {
          try {
            await core.readNamespacedPod({ namespace: ns, name });
            return false;
          } catch {
            return true;
          }
        },
        120_000,
        `${ns}/${name} deleted`,
      );
      return (t1 - t0) / 1000;
    };

    o.log('warm-up pair (not counted: first pull of the profile, first pod of each namespace)');
    await once(NS.sandboxed, 'warm');
    await once(NS.plain, 'warm');

    const sandboxed: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < o.pairs; i++) {
      const order = i % 2 === 0 ? [NS.sandboxed, NS.plain] : [NS.plain, NS.sandboxed];
      for (const ns of order) (ns === NS.sandboxed ? sandboxed : plain).push(await once(ns, `p${i}`));
      console.log(
        `pair ${String(i + 1).padStart(2)}: sandboxed ${sandboxed[i]!.toFixed(3)} s, unsandboxed ${plain[i]!.toFixed(3)} s` +
          ` (${order[0] === NS.sandboxed ? 'sandboxed' : 'unsandboxed'} first)`,
      );
    }
    const ms = median(sandboxed);
    const mp = median(plain);
    console.log(`median of per-pair ratios: ${median(sandboxed.map((s, i) => s / plain[i]!)).toFixed(2)}`);
    const line = `pod start: sandboxed ${ms.toFixed(2)} s, unsandboxed ${mp.toFixed(2)} s, ratio ${(ms / mp).toFixed(2)} (${o.pairs} pairs, mode ${seenMode})`;
    console.log(line);
    return line;
  } finally {
    watcher.stop();
    await stack.stop();
  }
}
