import { hostname } from 'node:os';
import type { Command } from 'commander';
import { loadKubeAccess } from '../kube/load-access.js';
import { createLogger } from '../common/log.js';
import { createOpsServer } from '../common/ops-server.js';
import { Controller } from '../controller/controller.js';
import { LeaderElector } from '../kube/leader-election.js';
import { numericFlags, portFlag, positiveFlag } from './flags.js';

interface ControllerFlags {
  kubeconfig?: string;
  namespace: string;
  leaseName: string;
  identity: string;
  leaderElect: boolean;
  opsPort: string;
  resyncSeconds: string;
  leaseDurationSeconds: string;
  renewDeadlineSeconds: string;
  retryPeriodSeconds: string;
  maxConcurrentReconciles: string;
  admissionParams: string | false;
  initImage: string;
  onUnresolvedEntrypoint: string;
}

/** `podfence controller`: informers always on (warm standby, honest /readyz); reconciling only while leader. */
export function register(program: Command): void {
  program
    .command('controller')
    .description('Reconcile SandboxProfiles: status, node labels, finalizers (leader-elected)')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)')
    .option(
      '--namespace <ns>',
      'namespace of the leader-election Lease',
      process.env.POD_NAMESPACE ?? 'podfence-system',
    )
    .option('--lease-name <name>', 'name of the leader-election Lease', 'podfence-controller')
    .option('--identity <id>', 'leader-election identity', `${process.env.POD_NAME ?? hostname()}_${process.pid}`)
    .option('--no-leader-elect', 'reconcile without leader election (a single replica only)')
    .option('--ops-port <port>', 'port for /healthz, /readyz, /metrics', '8081')
    .option('--resync-seconds <s>', 'reconcile everything at least this often', '120')
    .option('--lease-duration-seconds <s>', 'lease duration', '15')
    .option('--renew-deadline-seconds <s>', 'a leader that cannot renew for this long steps down', '10')
    .option('--retry-period-seconds <s>', 'how often to try to acquire or renew', '2')
    .option(
      '--max-concurrent-reconciles <n>',
      'reconcile workers per reconciler (one key is never handled twice at once)',
      '2',
    )
    .option(
      '--admission-params <name>',
      "SandboxAdmissionParams object with what the sandbox-required policy checks pods against (its binding's paramRef)",
      'podfence-sandbox-params',
    )
    .option('--no-admission-params', 'do not publish the policy parameters')
    .option(
      '--init-image <ref>',
      "podfence helper image, as the webhook's --init-image (the policy refuses any other installer image)",
      process.env.PODFENCE_INIT_IMAGE ?? 'localhost/podfence/init:dev',
    )
    .option(
      '--on-unresolved-entrypoint <policy>',
      "as the webhook's: skip-landlock lets the policy admit containers the webhook left unwrapped",
      'deny',
    )
    .action(async (flags: ControllerFlags) => {
      const n = numericFlags(flags, {
        opsPort: portFlag,
        resyncSeconds: positiveFlag,
        leaseDurationSeconds: positiveFlag,
        renewDeadlineSeconds: positiveFlag,
        retryPeriodSeconds: positiveFlag,
        maxConcurrentReconciles: positiveFlag,
      });
      if (!['deny', 'skip-landlock'].includes(flags.onUnresolvedEntrypoint)) {
        throw new Error(
          `--on-unresolved-entrypoint: must be deny or skip-landlock, got "${flags.onUnresolvedEntrypoint}"`,
        );
      }
      const log = createLogger('controller');
      // Not client-node's KubeConfig: importing it costs the controller ~55 MiB (src/kube/access.ts).
      const kubeConfig = await loadKubeAccess(flags.kubeconfig);
      const ops = createOpsServer();
      const controller = new Controller({
        kubeConfig,
        log,
        registry: ops.registry,
        resyncMs: n.resyncSeconds * 1000,
        concurrency: n.maxConcurrentReconciles,
        ...(flags.admissionParams
          ? {
              admissionParams: {
                name: flags.admissionParams,
                settings: {
                  initImage: flags.initImage,
                  onUnresolvedEntrypoint: flags.onUnresolvedEntrypoint as 'deny' | 'skip-landlock',
                },
              },
            }
          : {}),
      });
      ops.addReadinessCheck('watches', () => controller.health());
      ops.addLivenessCheck('process', () => undefined);
      const port = await ops.listen(n.opsPort);
      log.info({ port, identity: flags.identity }, 'ops server listening');
      controller.startInformers();

      let elector: LeaderElector | undefined;
      if (flags.leaderElect) {
        elector = new LeaderElector({
          kubeConfig,
          namespace: flags.namespace,
          name: flags.leaseName,
          identity: flags.identity,
          leaseDurationMs: n.leaseDurationSeconds * 1000,
          renewDeadlineMs: n.renewDeadlineSeconds * 1000,
          retryPeriodMs: n.retryPeriodSeconds * 1000,
          log,
          onStartedLeading: () => controller.startReconciling(),
          // Stop at once; keep campaigning so this replica can lead again (caches stay warm).
          onStoppedLeading: () => void controller.stopReconciling(),
          onNewLeader: (id) => log.info({ leader: id }, 'leader observed'),
        });
        elector.start();
      } else {
        controller.startReconciling();
      }

      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        await controller.stopReconciling();
        await elector?.stop(); // releases the lease: the standby takes over without waiting for expiry
        await controller.stopInformers();
        await ops.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
    });
}
