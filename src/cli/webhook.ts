import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadKubeConfig } from '../common/kube.js';
import { createLogger } from '../common/log.js';
import { createOpsServer } from '../common/ops-server.js';
import { startWebhook, type CertSource } from '../webhook/run.js';
import { nonNegativeFlag, numericFlags, portFlag, positiveFlag } from './flags.js';
import { DEFAULT_ALLOWED_REGISTRIES } from '../registry/access.js';

interface WebhookFlags {
  kubeconfig?: string;
  namespace?: string;
  port: string;
  opsPort: string;
  certDir?: string;
  callerTokenFile?: string;
  secretName: string;
  serviceName: string;
  webhookConfiguration: string[];
  servingIp: string[];
  initImage: string;
  initImagePullPolicy?: string;
  helperDelivery: string;
  onWeakening: string;
  onUnresolvedEntrypoint: string;
  registryTimeoutMs: string;
  platform: string;
  insecureRegistry: string[];
  registryCaFile?: string;
  allowedRegistry: string[];
  allowedRegistryCidr: string[];
  tagTtlSeconds: string;
}

const collect = (v: string, prev: string[]) => [...prev, ...v.split(',').filter(Boolean)];

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`--${flag} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** `podfence webhook`: the mutating admission webhook (HTTPS) plus the ops server. */
export function register(program: Command): void {
  program
    .command('webhook')
    .description('Serve the mutating admission webhook that sandboxes pods of opted-in namespaces')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('--namespace <ns>', "the operator's namespace (default: $POD_NAMESPACE)", process.env.POD_NAMESPACE)
    .option('--port <port>', 'HTTPS port', '9443')
    .option('--ops-port <port>', 'port for /healthz, /readyz, /metrics', '8081')
    .option(
      '--caller-token-file <path>',
      'answer reviews only at /mutate/<token> (token in this file; the webhook configuration names the path)',
    )
    .option('--cert-dir <dir>', 'use tls.crt/tls.key from this directory (cert-manager) instead of the own CA')
    .option('--secret-name <name>', 'Secret holding the self-managed CA and certificate', 'podfence-webhook-tls')
    .option('--service-name <name>', 'Service in front of the webhook (certificate names)', 'podfence-webhook')
    .option(
      '--webhook-configuration <names>',
      'MutatingWebhookConfiguration(s) whose caBundle to keep current',
      collect,
      [],
    )
    .option(
      '--serving-ip <ip>',
      'IP address added to the self-managed certificate (webhook reached by IP)',
      collect,
      [],
    )
    .option(
      '--init-image <ref>',
      'podfence helper image',
      process.env.PODFENCE_INIT_IMAGE ?? 'localhost/podfence/init:dev',
    )
    .option('--init-image-pull-policy <policy>', 'imagePullPolicy of the init container')
    .option(
      '--helper-delivery <mode>',
      'csi | init: the wrapper as a read-only podfence.dev CSI volume, or copied by an init container',
      process.env.PODFENCE_HELPER_DELIVERY ?? 'csi',
    )
    .option('--on-weakening <policy>', 'deny | overwrite: pod settings weaker than the profile', 'deny')
    .option('--on-unresolved-entrypoint <policy>', 'deny | skip-landlock: image entrypoint not readable', 'deny')
    .option('--registry-timeout-ms <ms>', 'bound on resolving one image config', '5000')
    .option('--platform <os/arch[/variant]>', 'platform picked from multi-platform images', 'linux/amd64')
    .option('--insecure-registry <host:port>', 'registries spoken to over plain HTTP', collect, [])
    .option('--registry-ca-file <path>', 'extra CA (PEM) trusted for registries')
    .option(
      '--allowed-registry <pattern>',
      `registries images may be read from (host[:port], *.suffix, * for any; default: ${DEFAULT_ALLOWED_REGISTRIES.join(' ')})`,
      collect,
      [],
    )
    .option(
      '--allowed-registry-cidr <cidr>',
      'private, loopback or link-local networks registry requests may reach (refused by default)',
      collect,
      [],
    )
    .option('--tag-ttl-seconds <s>', 'how long a tag -> digest answer is reused', '60')
    .action(async (flags: WebhookFlags) => {
      const log = createLogger('webhook');
      if (!flags.namespace) throw new Error('set POD_NAMESPACE (downward API) or --namespace');
      const n = numericFlags(flags, {
        port: portFlag,
        opsPort: portFlag,
        registryTimeoutMs: positiveFlag,
        tagTtlSeconds: nonNegativeFlag,
      });
      const kubeConfig = loadKubeConfig(flags.kubeconfig);
      const ops = createOpsServer();
      const [os = 'linux', architecture = 'amd64', variant] = flags.platform.split('/');
      const certs: CertSource = flags.certDir
        ? { kind: 'dir', dir: flags.certDir }
        : {
            kind: 'self-managed',
            secretName: flags.secretName,
            serviceName: flags.serviceName,
            mutatingWebhooks: flags.webhookConfiguration,
            ipAddresses: flags.servingIp,
          };
      let ready: () => string | undefined = () => 'starting';
      ops.addReadinessCheck('webhook', () => ready());
      ops.addLivenessCheck('process', () => undefined);
      await ops.listen(n.opsPort);
      const webhook = await startWebhook({
        kubeConfig,
        namespace: flags.namespace,
        log,
        metrics: ops.registry,
        certs,
        port: n.port,
        callerTokenFile: flags.callerTokenFile,
        policy: {
          onWeakening: oneOf('on-weakening', flags.onWeakening, ['deny', 'overwrite'] as const),
          onUnresolvedEntrypoint: oneOf('on-unresolved-entrypoint', flags.onUnresolvedEntrypoint, [
            'deny',
            'skip-landlock',
          ] as const),
          initImage: flags.initImage,
          initImagePullPolicy: flags.initImagePullPolicy,
          helperDelivery: oneOf('helper-delivery', flags.helperDelivery, ['csi', 'init'] as const),
        },
        registry: {
          timeoutMs: n.registryTimeoutMs,
          platform: { os, architecture, ...(variant ? { variant } : {}) },
          plainHttp: flags.insecureRegistry,
          ca: flags.registryCaFile ? readFileSync(flags.registryCaFile, 'utf8') : undefined,
          // Plain-HTTP registries the admin names are allowed too.
          access: {
            registries: [
              ...(flags.allowedRegistry.length ? flags.allowedRegistry : DEFAULT_ALLOWED_REGISTRIES),
              ...flags.insecureRegistry,
            ],
            cidrs: flags.allowedRegistryCidr,
          },
          tagTtlMs: n.tagTtlSeconds * 1000,
        },
      });
      ready = () => webhook.health();
      const shutdown = async (signal: string) => {
        log.info({ signal }, 'shutting down');
        await webhook.stop();
        await ops.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
    });
}
