import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DEFAULT_KUBELET_ROOT } from '../common/constants.js';
import { loadKubeConfig } from '../common/kube.js';
import { createLogger } from '../common/log.js';
import { createOpsServer } from '../common/ops-server.js';
import { NodeAgent } from '../node-agent/agent.js';
import { CsiPlugin } from '../node-agent/csi/plugin.js';
import { nonNegativeFlag, numericFlags, portFlag, positiveFlag } from './flags.js';

interface NodeAgentFlags {
  kubeconfig?: string;
  kubeletRoot: string;
  nodeName?: string;
  initBinary: string;
  opsPort: string;
  retireGraceSeconds: string;
  resyncSeconds: string;
  csi: boolean;
  csiHelper?: string;
  denials: boolean;
  auditTap: string;
  enableAudit?: boolean;
}

/** $PODFENCE_AUDIT_TAP, else the one `npm run build` made in this checkout, else `audit-tap` on PATH (the image). */
function defaultAuditTap(): string {
  const built = fileURLToPath(new URL('../../../audit-tap/build/audit-tap', import.meta.url));
  return process.env.PODFENCE_AUDIT_TAP ?? (existsSync(built) ? built : 'audit-tap');
}

/** `podfence node-agent`: one per node (DaemonSet); writes profile files and the node's SandboxNodeReport. */
export function register(program: Command): void {
  program
    .command('node-agent')
    .description('Install compiled seccomp profiles on this node and report what it has')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)')
    .option(
      '--kubelet-root <dir>',
      'kubelet root directory (files go to <dir>/seccomp/podfence)',
      process.env.KUBELET_ROOT ?? DEFAULT_KUBELET_ROOT,
    )
    .option('--node-name <name>', 'this node (default: $NODE_NAME)', process.env.NODE_NAME)
    .option(
      '--init-binary <path>',
      'podfence-init, run with --probe for the Landlock ABI',
      process.env.PODFENCE_INIT_BINARY ?? 'podfence-init',
    )
    .option('--ops-port <port>', 'port for /healthz, /readyz, /metrics', '8081')
    .option('--retire-grace-seconds <s>', 'an unneeded file is unreported this long before it is deleted', '30')
    .option('--resync-seconds <s>', 'compare the directory with the desired state at least this often', '60')
    .option('--csi', 'serve the podfence.dev CSI driver that delivers the wrapper (the default)', true)
    .option('--no-csi', 'do not serve the podfence.dev CSI driver (init-container delivery of the wrapper)')
    .option('--csi-helper <path>', 'the podfence-init the CSI volumes show (default: --init-binary)')
    .option('--no-denials', 'do not collect sandbox denials from the kernel (audit records; docs/denials.md)')
    .option('--audit-tap <path>', 'audit-tap binary for denials', defaultAuditTap())
    .option('--enable-audit', "set the kernel's audit enabled flag (Landlock logs nothing while it is 0)")
    .action(async (flags: NodeAgentFlags) => {
      if (!flags.nodeName) throw new Error('--node-name (or $NODE_NAME) is required');
      const n = numericFlags(flags, {
        opsPort: portFlag,
        retireGraceSeconds: nonNegativeFlag,
        resyncSeconds: positiveFlag,
      });
      const log = createLogger('node-agent').child({ node: flags.nodeName });
      const ops = createOpsServer();
      const agent = new NodeAgent({
        kubeConfig: loadKubeConfig(flags.kubeconfig),
        nodeName: flags.nodeName,
        kubeletRoot: flags.kubeletRoot,
        initBinary: flags.initBinary,
        log,
        registry: ops.registry,
        retireGraceMs: n.retireGraceSeconds * 1000,
        resyncMs: n.resyncSeconds * 1000,
        csiStatus: flags.csi ? () => csi?.status() : undefined,
        denials: flags.denials ? { tap: flags.auditTap, enableAudit: !!flags.enableAudit } : undefined,
      });
      ops.addReadinessCheck('agent', () => agent.health());
      // The CSI driver: pods of this node get the wrapper from it, so the agent is not ready without it.
      const csi = flags.csi
        ? new CsiPlugin({
            nodeName: flags.nodeName,
            kubeletRoot: flags.kubeletRoot,
            helperBinary: flags.csiHelper ?? flags.initBinary,
            log: log.child({ part: 'csi' }),
            registry: ops.registry,
            // The node label that lets sandboxed pods schedule here follows the driver's readiness.
            onChange: () => agent.refresh(),
          })
        : undefined;
      if (csi) ops.addReadinessCheck('csi', () => csi.health());
      let gcTimer: NodeJS.Timeout | undefined;
      ops.addLivenessCheck('process', () => undefined);
      const port = await ops.listen(n.opsPort);
      log.info({ port }, 'ops server listening');
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        clearInterval(gcTimer);
        await csi?.stop();
        await agent.stop();
        await ops.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
      if (csi) {
        await csi.start();
        // Old helper versions go once no volume shows them any more.
        gcTimer = setInterval(
          () => void csi.collect().catch((err: unknown) => log.warn({ err: String(err) }, 'helper store GC failed')),
          n.resyncSeconds * 1000,
        );
        gcTimer.unref();
      }
      await agent.start();
    });
}
