import type { V1Container } from '@kubernetes/client-node';
import { INIT_BINARY } from '../../common/constants.js';
import { effectiveCommand } from '../effective-command.js';
import type { MutationContext, ProfileInfo } from '../types.js';
import { deliveryMount, isDeliveryMount } from './delivery.js';
import { uniq, type Findings } from './findings.js';

// Step: the Landlock wrapper in front of one container's command: `podfence-init <options> -- <command>`. The
// options grant the container's volume directories (trustVolumes); the command is the container's own, or the
// image's ENTRYPOINT + CMD. The container's exec probes and exec lifecycle hooks (postStart, preStop), which the
// kubelet starts beside the command rather than under it, get the same wrapper. Audit mode has no wrapper (and
// takes off one an earlier mutation left).

export interface Wrapping extends Findings {
  /** The container with command, args and mounts set (its other fields as they were). */
  container: V1Container;
  wrapped: boolean;
  /** Admitted without Landlock (audit mode, or policy skip-landlock): recorded in an annotation. */
  landlockSkipped: boolean;
}

export function wrapContainer(
  input: V1Container,
  profile: ProfileInfo,
  ctx: Pick<MutationContext, 'entrypoints' | 'policy'>,
  where: string,
): Wrapping {
  const c: V1Container = { ...input };
  const out: Wrapping = {
    container: c,
    wrapped: false,
    landlockSkipped: false,
    denials: [],
    warnings: [],
  };
  const mounts = (c.volumeMounts ?? []).filter((m) => !isDeliveryMount(m));
  const hadOurMount = mounts.length !== (c.volumeMounts ?? []).length;
  const extra = { readOnly: [] as string[], readWrite: [] as string[] };
  if (profile.trustVolumes) {
    for (const m of mounts) (m.readOnly ? extra.readOnly : extra.readWrite).push(m.mountPath);
  }
  const options = profile.landlockArgs({ readOnly: uniq(extra.readOnly), readWrite: uniq(extra.readWrite) });
  if (options.length === 0) {
    // Audit mode: no Landlock, no wrapper (recorded, so the validating policy expects none). Unwrap what an
    // earlier enforce-mode mutation may have left.
    out.landlockSkipped = true;
    const original = unwrap(c);
    if (original) {
      c.command = original;
      delete c.args;
    }
    wrapExecs(c, undefined);
    if (hadOurMount) setMounts(c, mounts);
    return out;
  }
  const original = unwrap(c) ?? effectiveCommand(c, entrypointOf(ctx, c.name));
  if (!original) {
    const e = ctx.entrypoints[c.name];
    const why = e && !e.ok ? e.error : 'not resolved';
    const msg =
      `${where}: podfence could not read the entrypoint of image "${c.image}" (${why}); set "command" ` +
      `in the container spec so podfence can put its Landlock wrapper in front of it`;
    if (ctx.policy.onUnresolvedEntrypoint === 'deny') out.denials.push(msg);
    else {
      out.warnings.push(`${msg}. Admitted WITHOUT Landlock (policy skip-landlock)`);
      out.landlockSkipped = true;
      if (hadOurMount) setMounts(c, mounts);
    }
    return out;
  }
  if (original.length === 0) {
    out.denials.push(`${where}: image "${c.image}" has neither ENTRYPOINT nor CMD; set "command"`);
    return out;
  }
  c.command = [INIT_BINARY, ...options, '--', ...original];
  delete c.args;
  wrapExecs(c, options);
  c.volumeMounts = [...mounts, deliveryMount()];
  out.wrapped = true;
  return out;
}

/**
 * Exec probes and exec lifecycle hooks behind the wrapper too (`options` undefined: take an earlier wrapper off).
 * The kubelet starts them in the container beside its command: left alone they would run without Landlock.
 */
function wrapExecs(c: V1Container, options: string[] | undefined): void {
  const wrap = (e: { command?: string[] } | undefined) => {
    if (!e?.command?.length) return;
    const cmd = unwrapCommand(e.command) ?? e.command;
    e.command = options ? [INIT_BINARY, ...options, '--', ...cmd] : cmd;
  };
  for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    if (!c[k]?.exec) continue;
    c[k] = structuredClone(c[k]);
    wrap(c[k].exec);
  }
  if (c.lifecycle?.postStart?.exec || c.lifecycle?.preStop?.exec) {
    c.lifecycle = structuredClone(c.lifecycle);
    wrap(c.lifecycle.postStart?.exec);
    wrap(c.lifecycle.preStop?.exec);
  }
}

function unwrapCommand(command: string[]): string[] | undefined {
  if (command[0] !== INIT_BINARY) return undefined;
  const sep = command.indexOf('--');
  return sep < 0 ? undefined : command.slice(sep + 1);
}

/** The original command of a container podfence already wrapped (everything after the wrapper's `--`). */
export function unwrap(c: V1Container): string[] | undefined {
  if (c.command?.[0] !== INIT_BINARY) return undefined;
  const sep = c.command.indexOf('--');
  if (sep < 0) return undefined;
  return [...c.command.slice(sep + 1), ...(c.args ?? [])];
}

function setMounts(c: V1Container, mounts: NonNullable<V1Container['volumeMounts']>): void {
  if (mounts.length) c.volumeMounts = mounts;
  else delete c.volumeMounts;
}

function entrypointOf(ctx: Pick<MutationContext, 'entrypoints'>, name: string) {
  const e = ctx.entrypoints[name];
  return e?.ok ? e : undefined;
}
