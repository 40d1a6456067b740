// The node's layout and configuration files, as pure functions of its paths: containerd's config, the kubelet's
// KubeletConfiguration and the CNI network. Every path lives under two directories of our own, so a cleanup can
// find everything the node ever created (see cleanup.sh, which repeats these defaults).
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface NodeLayout {
  /** Persistent state: containerd's root, the kubelet's root, CNI config and IPAM state, pod logs, our logs. */
  dataDir: string;
  /** Runtime state: containerd's state dir and socket, runc's state. */
  runDir: string;
  nodeName: string;
  /** Linux bridge the pods are attached to (at most 15 characters). */
  bridge: string;
  podCIDR: string;
  /** Parent cgroup of everything the kubelet creates (`kubepods` below it), in every v1 hierarchy. */
  cgroupRoot: string;
  kubeletPort: number;
  kubeletHealthzPort: number;
}

export const DEFAULT_LAYOUT: NodeLayout = {
  dataDir: process.env.PODFENCE_NODE_DATA_DIR ?? '/var/lib/podfence-e2e',
  runDir: process.env.PODFENCE_NODE_RUN_DIR ?? '/run/podfence-e2e',
  nodeName: 'podfence-e2e-node',
  bridge: 'podfence0',
  podCIDR: '10.244.77.0/24',
  cgroupRoot: '/podfence-e2e',
  kubeletPort: 11250,
  kubeletHealthzPort: 11248,
};

/** Where each file and directory of the node is. */
export function nodePaths(l: NodeLayout) {
  return {
    logDir: join(l.dataDir, 'logs'),
    etcDir: join(l.dataDir, 'etc'),
    containerdRoot: join(l.dataDir, 'containerd'),
    containerdState: join(l.runDir, 'containerd'),
    containerdSocket: join(l.runDir, 'containerd.sock'),
    containerdConfig: join(l.dataDir, 'etc', 'containerd.toml'),
    registryHostsDir: join(l.dataDir, 'etc', 'containerd-hosts'),
    runcRoot: join(l.runDir, 'runc'),
    cniConfDir: join(l.dataDir, 'cni', 'net.d'),
    cniIpamDir: join(l.dataDir, 'cni', 'ipam'),
    cniBinDir: '/usr/lib/cni',
    kubeletRoot: join(l.dataDir, 'kubelet'),
    kubeletConfig: join(l.dataDir, 'etc', 'kubelet.yaml'),
    kubeletKubeconfig: join(l.dataDir, 'etc', 'kubelet.kubeconfig'),
    kubeletCA: join(l.dataDir, 'etc', 'ca.crt'),
    podLogsDir: join(l.dataDir, 'pod-logs'),
    /** The kubelet's plugin watcher directory: the node agent's CSI plugin registers itself with a socket here. */
    pluginsRegistryDir: join(l.dataDir, 'kubelet', 'plugins_registry'),
    /** The CSI plugin's own directory (its socket and the root-owned helper store). */
    csiPluginDir: join(l.dataDir, 'kubelet', 'plugins', 'podfence.dev'),
    /** The directory the node agent writes compiled seccomp profiles into (`<kubelet root>/seccomp/podfence`). */
    seccompDir: join(l.dataDir, 'kubelet', 'seccomp'),
  };
}

export type NodePaths = ReturnType<typeof nodePaths>;

/** TOML string literal (JSON's escaping is a subset TOML accepts for basic strings). */
const q = (s: string) => JSON.stringify(s);

/**
 * containerd 1.6 (config version 2): cgroupfs, our own root/state/socket, runc's state under our run dir, the local
 * pause image as sandbox image, our CNI config, netns mounts under the state dir (not the shared /var/run/netns),
 * and registry host configs (for plain-HTTP loopback registries) from our own directory.
 */
export function containerdConfig(l: NodeLayout, sandboxImage: string): string {
  const p = nodePaths(l);
  const cri = '[plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    `root = ${q(p.containerdRoot)}`,
    `state = ${q(p.containerdState)}`,
    'oom_score = 0',
    // Plugins this node never uses; they only add start-up noise (and btrfs/zfs/devmapper probing).
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", ' +
      '"io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]',
    '',
    '[grpc]',
    `  address = ${q(p.containerdSocket)}`,
    '',
    '[ttrpc]',
    `  address = ${q(`${p.containerdSocket}.ttrpc`)}`,
    '',
    '[plugins]',
    `  ${cri}]`,
    `    sandbox_image = ${q(sandboxImage)}`,
    '    enable_selinux = false',
    '    disable_apparmor = true',
    // This sandbox lacks CAP_SYS_RESOURCE: nobody may lower an OOM score below containerd's own (0), and the
    // kubelet asks -998 for every pod sandbox. Clamp instead of failing every pod.
    '    restrict_oom_score_adj = true',
    '    netns_mounts_under_state_dir = true',
    '    enable_unprivileged_ports = false',
    '    enable_unprivileged_icmp = false',
    '    max_container_log_line_size = 16384',
    `    ${cri}.containerd]`,
    '      snapshotter = "overlayfs"',
    '      default_runtime_name = "runc"',
    `      ${cri}.containerd.runtimes.runc]`,
    '        runtime_type = "io.containerd.runc.v2"',
    `        ${cri}.containerd.runtimes.runc.options]`,
    `          BinaryName = ${q(process.env.PODFENCE_NODE_RUNC ?? 'runc')}`,
    `          Root = ${q(p.runcRoot)}`,
    '          SystemdCgroup = false',
    `    ${cri}.cni]`,
    `      bin_dir = ${q(p.cniBinDir)}`,
    `      conf_dir = ${q(p.cniConfDir)}`,
    '      max_conf_num = 1',
    `    ${cri}.registry]`,
    `      config_path = ${q(p.registryHostsDir)}`,
    '',
  ].join('\n');
}

/** containerd's hosts.toml for a plain-HTTP registry on loopback (e.g. `127.0.0.1:5000`). */
export function registryHostsToml(hostPort: string): string {
  return [
    `server = ${q(`http://${hostPort}`)}`,
    '',
    `[host.${q(`http://${hostPort}`)}]`,
    '  capabilities = ["pull", "resolve"]',
    '',
  ].join('\n');
}

/** A bridge network: bridge + host-local IPAM, loopback, portmap. No masquerade: pods talk to each other only. */
export function cniConflist(l: NodeLayout): string {
  const p = nodePaths(l);
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'podfence-e2e',
      plugins: [
        {
          type: 'bridge',
          bridge: l.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: l.podCIDR }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: p.cniIpamDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** The loopback network (containerd's CRI plugin adds `lo` itself from this second file). */
export function cniLoopback(): string {
  return JSON.stringify({ cniVersion: '0.4.0', name: 'lo', type: 'loopback' }, null, 2);
}

export interface KubeletOptions {
  clusterDNS: string;
  clusterDomain: string;
}

/**
 * KubeletConfiguration for this machine: cgroup v1 accepted (`failCgroupV1: false`, needed from 1.35 and
 * explicit here), cgroupfs driver under our own cgroup root, no swap check, no disk-pressure eviction or image GC
 * (a small sandbox disk must not evict the test's pods or delete imported images), no kubelet seccomp default
 * (podfence sets each pod's profile; control pods must run unconfined), x509 authentication of the apiserver
 * against the cluster CA.
 */
export function kubeletConfig(l: NodeLayout, o: KubeletOptions): string {
  const p = nodePaths(l);
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '0.0.0.0',
    port: l.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: l.kubeletHealthzPort,
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: l.cgroupRoot,
    cgroupsPerQOS: true,
    failCgroupV1: false,
    failSwapOn: false,
    seccompDefault: false,
    localStorageCapacityIsolation: false,
    protectKernelDefaults: false,
    evictionHard: {
      'memory.available': '0%',
      'nodefs.available': '0%',
      'nodefs.inodesFree': '0%',
      'imagefs.available': '0%',
    },
    evictionPressureTransitionPeriod: '0s',
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    imageMinimumGCAge: '87600h',
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: p.kubeletCA },
    },
    authorization: { mode: 'AlwaysAllow' },
    clusterDNS: [o.clusterDNS],
    clusterDomain: o.clusterDomain,
    resolvConf: '/etc/resolv.conf',
    podLogsDir: p.podLogsDir,
    registerNode: true,
    serializeImagePulls: false,
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    nodeStatusUpdateFrequency: '5s',
    runtimeRequestTimeout: '2m',
    maxPods: 60,
    podPidsLimit: 4096,
    shutdownGracePeriod: '0s',
    // See restrict_oom_score_adj above: no lowering of OOM scores without CAP_SYS_RESOURCE.
    oomScoreAdj: 0,
  });
}
