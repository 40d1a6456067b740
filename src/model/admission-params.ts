import { compileProfileObject, type CompiledProfile } from '../profile/index.js';

// What the sandbox-required ValidatingAdmissionPolicy checks a pod against: per SandboxProfile, exactly what the
// webhook's mutation writes for it (the compiled seccomp file, the user, the capabilities, the wrapper options), in
// the SandboxAdmissionParams object the controller keeps up to date and the policy's binding names as its parameter
// (paramRef). CEL can neither compile a profile nor parse JSON, so every value is a plain string:
//
// - `<profile>.seccomp`: `podfence/<name>-<hash>.json`
// - `<profile>.version`: the `podfence.dev/applied` annotation's version (`<profile>@<version>`)
// - `<profile>.wrapper`: the wrapper options as units (`--mode enforce`, `--ro /etc`, `--deny-tcp`,
//   `--seccomp-log 1:x86_64=...`), one per line; empty in audit mode (no wrapper)
// - `<profile>.trustVolumes`: `true` when each mounted volume is granted (`--volume-ro`/`--volume-rw <mountPath>`)
// - `<profile>.keep`: capabilities kept, comma-separated (everything else dropped)
// - `<profile>.runAsUser`, `<profile>.runAsGroup`, `<profile>.fsGroup` (empty: unset)
// - `<profile>.overrides`: profiles a pod of a namespace using this one may switch to, comma-separated
// - `<profile>.allowHost`: host escapes the profile allows (`network,pid,ipc,hostPath`), comma-separated
// - `initImage`: the only image podfence's installer init container may run
// - `unwrapped`: `allowed` when the webhook admits containers without the wrapper (skip-landlock), else `denied`
//
// Profile names are DNS labels (no dots), so `<profile>.<field>` never collides with another profile's keys, and the
// global keys are camel-case, which no profile name can be.

/** The SandboxAdmissionParams object's default name (`podfence controller --admission-params`). */
export const ADMISSION_PARAMS_DEFAULT_NAME = 'podfence-sandbox-params';

export interface AdmissionSettings {
  /** The podfence-init image the webhook injects. */
  initImage: string;
  /** The webhook's --on-unresolved-entrypoint: skip-landlock admits unwrapped containers. */
  onUnresolvedEntrypoint: 'deny' | 'skip-landlock';
}

export type AdmissionParams = Record<string, string>;

/** The wrapper options as the policy compares them: one unit per option, a value joined to its flag by a space. */
export function optionUnits(options: readonly string[]): string[] {
  const units: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const t = options[i]!;
    if (t === '--deny-tcp') units.push(t);
    else units.push(`${t} ${options[++i] ?? ''}`);
  }
  return units;
}

/** Per-profile entries; a profile that does not validate or compile gets none (pods naming it are refused). */
export function profileParams(obj: unknown): AdmissionParams {
  const r = compileProfileObject(obj);
  if (!r.ok) return {};
  return paramsOf(r.compiled);
}

/** The entries of one compiled profile (src/profile/compiled.ts: the webhook mutates from the same object). */
export function paramsOf(c: CompiledProfile): AdmissionParams {
  const name = c.name;
  if (!name) return {};
  const host = (['network', 'pid', 'ipc', 'hostPath'] as const).filter((k) => c.allowHost[k]);
  const sc = c.podSecurityContext;
  return {
    [`${name}.seccomp`]: c.seccomp.localhostProfile,
    [`${name}.version`]: c.version,
    [`${name}.wrapper`]: optionUnits(c.landlockArgs({ readOnly: [], readWrite: [] })).join('\n'),
    [`${name}.trustVolumes`]: String(c.trustVolumes),
    [`${name}.keep`]: c.keepCapabilities.join(','),
    [`${name}.runAsUser`]: String(sc.runAsUser ?? ''),
    [`${name}.runAsGroup`]: String(sc.runAsGroup ?? ''),
    [`${name}.fsGroup`]: sc.fsGroup === undefined ? '' : String(sc.fsGroup),
    [`${name}.overrides`]: c.allowOverrideTo.join(','),
    [`${name}.allowHost`]: host.join(','),
  };
}

/** The whole parameter data: every valid profile's entries plus the global settings. */
export function admissionParams(profiles: readonly unknown[], settings: AdmissionSettings): AdmissionParams {
  const data: AdmissionParams = {
    initImage: settings.initImage,
    unwrapped: settings.onUnresolvedEntrypoint === 'skip-landlock' ? 'allowed' : 'denied',
  };
  for (const p of profiles) Object.assign(data, profileParams(p));
  return data;
}
