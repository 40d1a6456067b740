// The admission chain of the integration tests, set up one way: the canonical mutating webhook configuration and
// sandbox-required policy from deploy/webhook, renamed for the run and bound only to namespaces carrying the run's
// label (other suites sharing the apiserver are never affected), the policy's parameters published by the
// controller's ParamsPublisher, and podfence's webhook served from this process exactly as `podfence webhook` wires
// it (informers, registry client, self-managed CA in a Secret, caBundle patched by name), called by the real
// kube-apiserver over TLS. `stop` deletes it all.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type V1ExpressionWarning,
  type V1LabelSelector,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import type { RegistryClientOptions } from '../../src/registry/client.js';
import { startWebhook, type RunningWebhook } from '../../src/webhook/run.js';
import { freePort, waitFor } from '../cluster/net.js';
import { deleteParams, publishParams, sandboxPolicy } from './policy-params.js';

export const INIT_IMAGE = 'localhost/podfence/init:dev';

export interface AdmissionSetupOptions {
  kc: KubeConfig;
  /** The run's id: names every object (`<id>-mutate`, `<id>-sandbox-required`, `<id>-params`). */
  id: string;
  /** Namespaces labelled `<label>: <id>` (and opted in) get the webhook and the policy. */
  label: string;
  /** The operator's namespace (holds the webhook's certificate Secret; never mutated). */
  operatorNs: string;
  /** Profiles whose parameters the policy gets (created before the call). */
  profiles: string[];
  /** More bindings of the same policy: namespaces labelled `<label>-<suffix>: <id>` get the policy only. */
  policyOnly?: string[];
  registry?: RegistryClientOptions;
  /** Serve reviews only at /mutate/<callerToken> (the webhook configuration names that path). */
  callerToken?: string;
  /** Until this holds, the configurations are not in force yet (the apiserver picks them up asynchronously). */
  inForce(): Promise<boolean>;
}

export interface AdmissionSetup {
  webhook: RunningWebhook;
  mwcName: string;
  vapName: string;
  paramsName: string;
  /** What the policy checks against (the published SandboxAdmissionParams data). */
  params: Record<string, string>;
  stop(): Promise<void>;
}

/** Waits for kube-controller-manager to type-check the policy and returns its expression warnings. */
export async function policyTypeCheckWarnings(
  admission: AdmissionregistrationV1Api,
  name: string,
): Promise<V1ExpressionWarning[]> {
  let warnings: V1ExpressionWarning[] = [];
  await waitFor(
    async () => {
      const typeChecking = (await admission.readValidatingAdmissionPolicy({ name })).status?.typeChecking;
      warnings = typeChecking?.expressionWarnings ?? [];
      return typeChecking !== undefined;
    },
    60_000,
    `type checking of policy ${name}`,
  );
  return warnings;
}

export async function startAdmission(o: AdmissionSetupOptions): Promise<AdmissionSetup> {
  const admission = o.kc.makeApiClient(AdmissionregistrationV1Api);
  const mwcName = `${o.id}-mutate`;
  const vapName = `${o.id}-sandbox-required`;
  const paramsName = `${o.id}-params`;
  const bindings: string[] = [];
  let webhook: RunningWebhook | undefined;
  let tokenDir: string | undefined;
  const stop = async () => {
    await admission.deleteMutatingWebhookConfiguration({ name: mwcName }).catch(() => undefined);
    for (const name of bindings)
      await admission.deleteValidatingAdmissionPolicyBinding({ name }).catch(() => undefined);
    await admission.deleteValidatingAdmissionPolicy({ name: vapName }).catch(() => undefined);
    await webhook?.stop().catch(() => undefined);
    await deleteParams(o.kc, paramsName);
    if (tokenDir) rmSync(tokenDir, { recursive: true, force: true });
  };

  try {
    const params = await publishParams(o.kc, paramsName, o.profiles);
    const { policy, binding } = sandboxPolicy(
      vapName,
      {
        matchExpressions: [
          { key: 'podfence.dev/profile', operator: 'Exists' },
          { key: o.label, operator: 'In', values: [o.id] },
        ],
      },
      paramsName,
    );
    await admission.createValidatingAdmissionPolicy({ body: policy });
    await admission.createValidatingAdmissionPolicyBinding({ body: binding });
    bindings.push(vapName);
    for (const suffix of o.policyOnly ?? []) {
      const name = `${vapName}-${suffix}`;
      const extra = sandboxPolicy(name, { matchLabels: { [`${o.label}-${suffix}`]: o.id } }, paramsName).binding;
      await admission.createValidatingAdmissionPolicyBinding({
        body: { ...extra, spec: { ...extra.spec, policyName: vapName } },
      });
      bindings.push(name);
    }

    const port = await freePort();
    const mwc = parse(readFileSync('deploy/webhook/mutating-webhook.yaml', 'utf8')) as {
      metadata: { name: string };
      webhooks: { clientConfig: object; namespaceSelector: object }[];
    };
    mwc.metadata.name = mwcName;
    const path = o.callerToken ? `/mutate/${o.callerToken}` : '/mutate';
    for (const w of mwc.webhooks) {
      w.clientConfig = { url: `https://127.0.0.1:${port}${path}` };
      w.namespaceSelector = {
        matchLabels: { [o.label]: o.id },
        matchExpressions: [{ key: 'podfence.dev/profile', operator: 'Exists' }],
      } satisfies V1LabelSelector;
    }
    await admission.createMutatingWebhookConfiguration({ body: mwc as never });

    let callerTokenFile: string | undefined;
    if (o.callerToken) {
      tokenDir = mkdtempSync(join(tmpdir(), 'podfence-caller-'));
      callerTokenFile = join(tokenDir, 'token');
      writeFileSync(callerTokenFile, `${o.callerToken}\n`, { mode: 0o600 });
    }
    webhook = await startWebhook({
      kubeConfig: o.kc,
      namespace: o.operatorNs,
      log: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      metrics: new Registry(),
      port,
      host: '127.0.0.1',
      policy: { onWeakening: 'deny', onUnresolvedEntrypoint: 'deny', initImage: INIT_IMAGE },
      registry: o.registry ?? { timeoutMs: 2000 },
      certs: {
        kind: 'self-managed',
        secretName: 'podfence-webhook-tls',
        serviceName: 'podfence-webhook',
        mutatingWebhooks: [mwcName],
        ipAddresses: ['127.0.0.1'],
      },
      callerTokenFile,
    });
    await waitFor(o.inForce, 60_000, 'the webhook configuration and the policy are in force');
    return { webhook, mwcName, vapName, paramsName, params, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
