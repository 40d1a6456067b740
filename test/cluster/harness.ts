// A real local Kubernetes control plane for tests, in the manner of controller-runtime's envtest: etcd and
// kube-apiserver (optionally kube-controller-manager and kube-scheduler) built from their Go modules by
// build-binaries.sh, on free loopback ports, with certificates generated here. Every process is killed with its
// group on stop(), on a failed start, on SIGINT/SIGTERM and at exit.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { binary, binDir } from './binaries.js';
import { apiserverUrlFor, freePort, httpsGet, waitFor } from './net.js';
import { createCA, createKeyPair, issueCert, type IssueOptions } from './pki.js';
import { logTail, startProcess, type ManagedProcess } from './processes.js';
import { kubeconfigYaml } from './kubeconfig.js';

/** Cluster-wide network settings, for a kubelet joining a cluster started with `withControllers`. */
export const SERVICE_CIDR = '10.96.0.0/16';
/** The first address of SERVICE_CIDR: the `kubernetes` Service. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
/** Reserved for a cluster DNS Service (none is deployed by the harness). */
export const CLUSTER_DNS_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
export const CLUSTER_NAME = 'podfence-test';

export interface ClusterOptions {
  /** Also run kube-controller-manager and kube-scheduler (and the ServiceAccount admission plugin). */
  withControllers?: boolean;
  /** Cluster directory (certificates, etcd data, logs, pid files). Default: a fresh directory under /tmp. */
  dir?: string;
  /** Address kube-apiserver listens on. Default 127.0.0.1; use 0.0.0.0 when pods must reach it. */
  bindAddress?: string;
  /**
   * Address published in the `kubernetes` Service's endpoints (added to the serving certificate). Default: none
   * published (`--endpoint-reconciler-type=none`), which is what a loopback-only apiserver needs.
   */
  advertiseAddress?: string;
  /** Extra kube-apiserver flags (`--name=value`). */
  apiserverArgs?: string[];
  /**
   * Leave the processes running when this Node process exits (for `npm run cluster:up`; `down.sh` stops them by
   * their pid files). Default false: the processes die with this process, even if it is killed.
   */
  detach?: boolean;
}

export interface TestCluster {
  /** Admin kubeconfig (user `podfence-admin`, group `system:masters`), certificates embedded. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  apiserverUrl: string;
  dir: string;
  binDir: string;
  withControllers: boolean;
  /** Cluster CA (signs the serving certificate and every client certificate; clients are verified against it). */
  caCertPath: string;
  caKeyPath: string;
  /** Service-account signing key pair (PKCS#8 private key, SPKI public key). */
  serviceAccountKeyPath: string;
  serviceAccountPublicKeyPath: string;
  serviceCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
  /** Log file of each running component, by name. */
  logs(): Record<string, string>;
  /**
   * Writes a kubeconfig for a client-certificate user signed by the cluster CA, e.g. for a kubelet:
   * `writeKubeconfig('kubelet-node1', 'system:node:node1', ['system:nodes'])`. Returns its path.
   */
  writeKubeconfig(fileName: string, user: string, groups?: string[]): Promise<string>;
  /** Issues a certificate from the cluster CA (e.g. a kubelet serving certificate). */
  issueCert(opts: IssueOptions): Promise<{ certPem: string; keyPem: string }>;
  stop(): Promise<void>;
  stopApiserver(): Promise<void>;
  /** Starts kube-apiserver again with the same etcd, certificates, flags and port. */
  startApiserver(): Promise<void>;
}

const READY_TIMEOUT_MS = 90_000;

/** Starts a cluster and waits until it serves (`/readyz`; with controllers, until they are healthy too). */
export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const withControllers = opts.withControllers ?? false;
  // Resolve every binary first: a missing one fails before anything is created or started.
  const bins = {
    etcd: binary('etcd'),
    apiserver: binary('kube-apiserver'),
    ...(withControllers
      ? { kcm: binary('kube-controller-manager'), scheduler: binary('kube-scheduler') }
      : { kcm: '', scheduler: '' }),
  };
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'podfence-cluster-'));
  const pkiDir = join(dir, 'pki');
  const logDir = join(dir, 'logs');
  for (const d of [pkiDir, logDir]) mkdirSync(d, { recursive: true });

  const procs: ManagedProcess[] = [];
  const tied = !opts.detach;
  const start = (name: string, command: string, args: string[]) => {
    const p = startProcess({ name, command, args, dir: logDir, tiedToParent: tied });
    procs.push(p);
    return p;
  };
  const stopAll = async () => {
    for (const p of [...procs].reverse()) await p.stop();
    procs.length = 0;
  };
  const failWith = async (err: unknown): Promise<never> => {
    await stopAll();
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`test cluster failed to start: ${msg}\n(cluster directory kept: ${dir})`);
  };
  /** Waits for `check`, failing early (with its log) if `proc` exits meanwhile. */
  const awaitReady = async (proc: ManagedProcess, what: string, check: () => Promise<boolean>) => {
    const died = proc.exited.then((code) => {
      throw new Error(`${proc.name} exited (${code}) before ${what}; ${proc.logPath}:\n${logTail(proc.logPath)}`);
    });
    died.catch(() => undefined);
    await Promise.race([
      waitFor(check, READY_TIMEOUT_MS, `${what} (log: ${proc.logPath}:\n${logTail(proc.logPath)})`),
      died,
    ]);
  };

  try {
    // --- certificates ---------------------------------------------------------------------------------------
    const ca = await createCA('podfence-test-ca');
    const bind = opts.bindAddress ?? '127.0.0.1';
    const serving = await issueCert(ca, {
      commonName: 'kube-apiserver',
      usage: 'server',
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        `kubernetes.default.svc.${CLUSTER_DOMAIN}`,
      ],
      ipAddresses: unique(['127.0.0.1', '::1', KUBERNETES_SERVICE_IP, opts.advertiseAddress, bind]),
    });
    const kubeletClient = await issueCert(ca, {
      commonName: 'kube-apiserver-kubelet-client',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const sa = await createKeyPair();
    const files = {
      caCert: join(pkiDir, 'ca.crt'),
      caKey: join(pkiDir, 'ca.key'),
      servingCert: join(pkiDir, 'apiserver.crt'),
      servingKey: join(pkiDir, 'apiserver.key'),
      kubeletClientCert: join(pkiDir, 'apiserver-kubelet-client.crt'),
      kubeletClientKey: join(pkiDir, 'apiserver-kubelet-client.key'),
      saKey: join(pkiDir, 'sa.key'),
      saPub: join(pkiDir, 'sa.pub'),
    };
    writeFileSync(files.caCert, ca.certPem);
    writeFileSync(files.caKey, ca.keyPem, { mode: 0o600 });
    writeFileSync(files.servingCert, serving.certPem);
    writeFileSync(files.servingKey, serving.keyPem, { mode: 0o600 });
    writeFileSync(files.kubeletClientCert, kubeletClient.certPem);
    writeFileSync(files.kubeletClientKey, kubeletClient.keyPem, { mode: 0o600 });
    writeFileSync(files.saKey, sa.keyPem, { mode: 0o600 });
    writeFileSync(files.saPub, sa.publicKeyPem);

    // --- etcd -----------------------------------------------------------------------------------------------
    const etcdPort = await freePort();
    const etcdPeerPort = await freePort();
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = start('etcd', bins.etcd, [
      '--name=podfence',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=podfence=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync', // tests do not need durability; fsync dominates etcd latency otherwise
      '--log-level=warn',
    ]);
    await awaitReady(etcd, 'etcd is healthy', async () => {
      const res = await fetch(`${etcdUrl}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    });

    // --- kube-apiserver ---------------------------------------------------------------------------------------
    const apiPort = await freePort(bind === '0.0.0.0' ? undefined : bind);
    const apiserverUrl = apiserverUrlFor(bind, opts.advertiseAddress, apiPort);
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${bind}`,
      `--secure-port=${apiPort}`,
      ...(opts.advertiseAddress
        ? [`--advertise-address=${opts.advertiseAddress}`]
        : ['--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none']),
      `--cert-dir=${pkiDir}`,
      `--tls-cert-file=${files.servingCert}`,
      `--tls-private-key-file=${files.servingKey}`,
      `--client-ca-file=${files.caCert}`,
      `--kubelet-client-certificate=${files.kubeletClientCert}`,
      `--kubelet-client-key=${files.kubeletClientKey}`,
      `--service-account-issuer=https://kubernetes.default.svc.${CLUSTER_DOMAIN}`,
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      // Test nodes have no DNS name: reach kubelets (logs, exec) by their InternalIP.
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      // The default plugin set of a real cluster (NamespaceLifecycle, MutatingAdmissionWebhook,
      // ValidatingAdmissionPolicy, ValidatingAdmissionWebhook, ResourceQuota, PodSecurity, ...) plus NodeRestriction.
      // Without controllers nothing creates the `default` ServiceAccount, so its admission plugin must go.
      '--enable-admission-plugins=NodeRestriction',
      ...(withControllers ? [] : ['--disable-admission-plugins=ServiceAccount']),
      '--profiling=false',
      '--v=1',
      ...(opts.apiserverArgs ?? []),
    ];
    const adminCert = await issueCert(ca, {
      commonName: 'podfence-admin',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const tlsClient = { ca: ca.certPem, cert: adminCert.certPem, key: adminCert.keyPem };
    let apiserver = start('kube-apiserver', bins.apiserver, apiserverArgs);
    const apiserverReady = async (proc: ManagedProcess) =>
      awaitReady(proc, 'kube-apiserver /readyz is ok', async () => {
        const res = await httpsGet(`${apiserverUrl}/readyz`, tlsClient);
        return res.status === 200;
      });
    await apiserverReady(apiserver);

    const kubeconfigPath = join(dir, 'kubeconfig');
    const writeKubeconfig = async (fileName: string, user: string, groups: string[] = []) => {
      const c = await issueCert(ca, { commonName: user, organizations: groups, usage: 'client' });
      const path = join(dir, fileName);
      writeFileSync(path, kubeconfigYaml({ server: apiserverUrl, caPem: ca.certPem, user, ...c }), { mode: 0o600 });
      return path;
    };
    writeFileSync(
      kubeconfigPath,
      kubeconfigYaml({ server: apiserverUrl, caPem: ca.certPem, user: 'podfence-admin', ...adminCert }),
      { mode: 0o600 },
    );

    // --- controllers --------------------------------------------------------------------------------------------
    if (withControllers) {
      await startControllers({ dir, bins, files, start, awaitReady, writeKubeconfig, tlsClient, apiserverUrl });
    }

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    let stopped = false;
    return {
      kubeconfigPath,
      kubeConfig,
      apiserverUrl,
      dir,
      binDir: binDir(),
      withControllers,
      caCertPath: files.caCert,
      caKeyPath: files.caKey,
      serviceAccountKeyPath: files.saKey,
      serviceAccountPublicKeyPath: files.saPub,
      serviceCIDR: SERVICE_CIDR,
      clusterDNS: CLUSTER_DNS_IP,
      clusterDomain: CLUSTER_DOMAIN,
      logs: () => Object.fromEntries(procs.map((p) => [p.name, p.logPath])),
      writeKubeconfig,
      issueCert: (o) => issueCert(ca, o),
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopAll();
        if (ownDir && !process.env.PODFENCE_KEEP_CLUSTER_DIR) rmSync(dir, { recursive: true, force: true });
      },
      async stopApiserver() {
        await apiserver.stop();
      },
      async startApiserver() {
        if (stopped) throw new Error('the cluster is stopped');
        if (apiserver.isRunning()) throw new Error('kube-apiserver is already running');
        // Same slot in the list, so stop() still takes the components down in reverse start order.
        const slot = procs.indexOf(apiserver);
        apiserver = startProcess({
          name: 'kube-apiserver',
          command: bins.apiserver,
          args: apiserverArgs,
          dir: logDir,
          tiedToParent: tied,
        });
        if (slot >= 0) procs[slot] = apiserver;
        else procs.push(apiserver);
        await apiserverReady(apiserver);
      },
    };
  } catch (err) {
    return failWith(err);
  }
}

interface ControllerContext {
  dir: string;
  bins: { kcm: string; scheduler: string };
  files: { caCert: string; caKey: string; saKey: string };
  start: (name: string, command: string, args: string[]) => ManagedProcess;
  awaitReady: (proc: ManagedProcess, what: string, check: () => Promise<boolean>) => Promise<void>;
  writeKubeconfig: (fileName: string, user: string, groups?: string[]) => Promise<string>;
  tlsClient: { ca: string; cert: string; key: string };
  apiserverUrl: string;
}

/** kube-controller-manager and kube-scheduler under their own identities (bound by the bootstrap RBAC policy). */
async function startControllers(ctx: ControllerContext): Promise<void> {
  const kcmKubeconfig = await ctx.writeKubeconfig(
    'kube-controller-manager.kubeconfig',
    'system:kube-controller-manager',
  );
  const schedKubeconfig = await ctx.writeKubeconfig('kube-scheduler.kubeconfig', 'system:kube-scheduler');
  const kcmPort = await freePort();
  const schedPort = await freePort();
  const kcm = ctx.start('kube-controller-manager', ctx.bins.kcm, [
    `--kubeconfig=${kcmKubeconfig}`,
    `--authentication-kubeconfig=${kcmKubeconfig}`,
    `--authorization-kubeconfig=${kcmKubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${kcmPort}`,
    `--cert-dir=${join(ctx.dir, 'pki', 'kube-controller-manager')}`,
    '--leader-elect=false',
    `--cluster-name=${CLUSTER_NAME}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    // Service-account tokens and the root CA published into every namespace (kube-root-ca.crt).
    `--service-account-private-key-file=${ctx.files.saKey}`,
    `--root-ca-file=${ctx.files.caCert}`,
    '--use-service-account-credentials=true',
    // CSRs (kubelet client/serving certificates) are signed by the cluster CA.
    `--cluster-signing-cert-file=${ctx.files.caCert}`,
    `--cluster-signing-key-file=${ctx.files.caKey}`,
    '--controllers=*',
    '--v=1',
  ]);
  const sched = ctx.start('kube-scheduler', ctx.bins.scheduler, [
    `--kubeconfig=${schedKubeconfig}`,
    `--authentication-kubeconfig=${schedKubeconfig}`,
    `--authorization-kubeconfig=${schedKubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${schedPort}`,
    '--leader-elect=false',
    '--v=1',
  ]);
  // Their serving certificates are self-signed: the probe does not verify them (loopback, our own processes).
  const healthy = (port: number) => async () =>
    (await httpsGet(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200;
  await ctx.awaitReady(kcm, 'kube-controller-manager /healthz is ok', healthy(kcmPort));
  await ctx.awaitReady(sched, 'kube-scheduler /healthz is ok', healthy(schedPort));
  // The ServiceAccount controller runs once `default` exists in `default`: pods can be admitted from then on.
  await ctx.awaitReady(kcm, 'the default ServiceAccount exists', async () => {
    const res = await httpsGet(`${ctx.apiserverUrl}/api/v1/namespaces/default/serviceaccounts/default`, ctx.tlsClient);
    return res.status === 200;
  });
}

function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => !!v && v !== '0.0.0.0'))];
}
