import type { V1Container } from '@kubernetes/client-node';
import type { ImageEntrypoint } from './types.js';

/**
 * The kubelet expands `$(VAR)` in command/args and turns `$$` into `$`: words copied from an image config must
 * have every `$` doubled so they reach the process unchanged (kubernetes issue 101137).
 */
export function escapeDollars(words: string[]): string[] {
  return words.map((w) => w.replaceAll('$', '$$$$'));
}

/**
 * What the container would run, in pod-spec syntax, following Kubernetes' rule: `command` replaces ENTRYPOINT,
 * `args` replaces CMD. Returns undefined when the image config is needed and not given.
 */
export function effectiveCommand(container: V1Container, image?: ImageEntrypoint): string[] | undefined {
  if (container.command && container.command.length > 0) return [...container.command, ...(container.args ?? [])];
  if (!image) return undefined;
  const args = container.args && container.args.length > 0 ? container.args : escapeDollars(image.cmd);
  return [...escapeDollars(image.entrypoint), ...args];
}

/** Whether a container needs the image config to be wrapped (no `command` of its own). */
export function needsImageEntrypoint(container: V1Container): boolean {
  return !container.command || container.command.length === 0;
}
