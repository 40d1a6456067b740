// Helpers for tests that apply the sandbox-required ValidatingAdmissionPolicy: the canonical manifests from
// deploy/webhook, bound to the test's namespaces, and its parameter ConfigMap published by the controller's own
// ParamsPublisher (src/controller/params-publisher.ts) for the test's profiles.
import { readFileSync } from 'node:fs';
import {
  CustomObjectsApi,
  type KubeConfig,
  type V1LabelSelector,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import type { AdmissionSettings } from '../../src/model/admission-params.js';
import { ParamsPublisher } from '../../src/controller/params-publisher.js';
import { waitFor } from '../cluster/net.js';

const PROFILES = { group: 'podfence.dev', version: 'v1alpha1', plural: 'sandboxprofiles' };
const PARAMS = { group: 'podfence.dev', version: 'v1alpha1', plural: 'sandboxadmissionparams' };

export const DEFAULT_SETTINGS: AdmissionSettings = {
  initImage: 'localhost/podfence/init:dev',
  onUnresolvedEntrypoint: 'deny',
};

/** The canonical policy and binding, renamed, bound to `selector`, reading its parameters from `paramsName`. */
export function sandboxPolicy(
  name: string,
  selector: V1LabelSelector,
  paramsName: string,
): { policy: V1ValidatingAdmissionPolicy; binding: V1ValidatingAdmissionPolicyBinding } {
  const [policyDoc, bindingDoc] = parseAllDocuments(readFileSync('deploy/webhook/validating-policy.yaml', 'utf8')).map(
    (d) => d.toJS() as Record<string, unknown>,
  );
  const policy = policyDoc as unknown as V1ValidatingAdmissionPolicy;
  policy.metadata = { name };
  const binding = bindingDoc as unknown as V1ValidatingAdmissionPolicyBinding;
  binding.metadata = { name };
  binding.spec!.policyName = name;
  if (policy.spec?.paramKind) binding.spec!.paramRef = { ...binding.spec!.paramRef, name: paramsName };
  binding.spec!.matchResources = { namespaceSelector: selector };
  return { policy, binding };
}

/**
 * Publishes the parameters of `profileNames` (as they are now in the API) as the SandboxAdmissionParams `name`, as
 * the leading controller does, and waits until the object lists them all. Returns its data.
 */
export async function publishParams(
  kc: KubeConfig,
  name: string,
  profileNames: string[],
  settings: AdmissionSettings = DEFAULT_SETTINGS,
): Promise<Record<string, string>> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const objs = await Promise.all(profileNames.map((n) => custom.getClusterCustomObject({ ...PROFILES, name: n })));
  const publisher = new ParamsPublisher({
    kubeConfig: kc,
    log: pino({ level: 'silent' }),
    name,
    settings,
    profiles: () => objs as unknown[],
    assertLeading: () => undefined,
  });
  publisher.start();
  let data: Record<string, string> = {};
  try {
    await waitFor(
      async () => {
        const obj = (await custom.getClusterCustomObject({ ...PARAMS, name }).catch(() => undefined)) as
          { data?: Record<string, string> } | undefined;
        data = obj?.data ?? {};
        return data.initImage === settings.initImage && profileNames.every((n) => data[`${n}.seccomp`] !== undefined);
      },
      30_000,
      `admission parameters ${name} for ${profileNames.join(', ')}`,
    );
  } finally {
    publisher.stop();
  }
  return data;
}

export async function deleteParams(kc: KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(CustomObjectsApi)
    .deleteClusterCustomObject({ ...PARAMS, name })
    .catch(() => undefined);
}
