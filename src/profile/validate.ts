import type { z } from 'zod';
import { ARCHITECTURES, SandboxProfileSchema, type Architecture, type SandboxProfile } from './schema.js';
import { resolveProfile } from './resolve.js';
import { SeccompRuleError, seccompFor } from './seccomp.js';
import { ALWAYS_ALLOWED_SET, ALWAYS_DENIED_SET, knownOn } from './syscalls.js';

export interface FieldError {
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; profile: SandboxProfile } | { ok: false; errors: FieldError[] };

/** `['spec','landlock','readOnly',2]` -> `spec.landlock.readOnly[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

function zodErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const base = formatPath(i.path);
      return {
        path: i.path.length ? base : i.keys.join(', '),
        message: `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`,
      };
    }
    if (i.code === 'invalid_type' && 'input' in i && i.input === undefined)
      return { path: formatPath(i.path), message: 'is required' };
    return { path: formatPath(i.path), message: i.message };
  });
}

/** Rules the JSON schema cannot express (so the apiserver lets them through; the controller reports them). */
function crossFieldErrors(profile: SandboxProfile): FieldError[] {
  const errors: FieldError[] = [];
  const sc = profile.spec?.seccomp;
  if (!sc) return errors;
  const archs: readonly Architecture[] = sc.architectures ?? ARCHITECTURES;
  const known = (name: string, path: string) => {
    if (!knownOn(name, archs)) errors.push({ path, message: `${name} is not a syscall on ${archs.join(' or ')}` });
  };
  sc.allow?.forEach((name, i) => {
    const path = `spec.seccomp.allow[${i}]`;
    if (ALWAYS_DENIED_SET.has(name)) {
      errors.push({ path, message: `${name} is always denied by podfence and cannot be allowed` });
    } else if (name === 'clone3') {
      errors.push({
        path,
        message:
          'clone3 cannot be filtered by its flags (they are in memory); it returns ENOSYS so libc falls back to clone',
      });
    } else known(name, path);
  });
  sc.deny?.forEach((name, i) => {
    const path = `spec.seccomp.deny[${i}]`;
    if (ALWAYS_ALLOWED_SET.has(name)) {
      errors.push({ path, message: `${name} is needed by the podfence-init wrapper and cannot be denied` });
    } else known(name, path);
  });
  sc.rules?.forEach((rule, r) => {
    rule.names.forEach((name, i) => {
      const path = `spec.seccomp.rules[${r}].names[${i}]`;
      if (rule.action === 'allow' || rule.action === 'log') {
        if (ALWAYS_DENIED_SET.has(name) || name === 'clone3') {
          errors.push({ path, message: `${name} is always denied by podfence and cannot be allowed by a rule` });
          return;
        }
      } else if (ALWAYS_ALLOWED_SET.has(name) && (rule.args?.length ?? 0) === 0) {
        errors.push({ path, message: `${name} is needed by the podfence-init wrapper and cannot be denied` });
        return;
      }
      known(name, path);
    });
    if (rule.errno !== undefined && rule.action !== 'errno') {
      errors.push({ path: `spec.seccomp.rules[${r}].errno`, message: 'only allowed with action errno' });
    }
    rule.args?.forEach((a, i) => {
      if (a.op === 'MASKED_EQ' && a.valueTwo === undefined) {
        errors.push({ path: `spec.seccomp.rules[${r}].args[${i}].valueTwo`, message: 'is required with op MASKED_EQ' });
      }
    });
  });
  return errors;
}

/** Validate an object as a SandboxProfile: every error names the field, e.g. `spec.landlock.readOnly[2]`. */
export function validateProfile(obj: unknown): ValidationResult {
  const parsed = SandboxProfileSchema.safeParse(obj, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error) };
  const errors = crossFieldErrors(parsed.data);
  if (errors.length) return { ok: false, errors };
  // Rules that cannot be compiled exactly are the profile's error, not a compile-time surprise.
  try {
    seccompFor(resolveProfile(parsed.data));
  } catch (err) {
    if (!(err instanceof SeccompRuleError)) throw err;
    return {
      ok: false,
      errors: [{ path: `spec.seccomp.rules[${err.rule}]`, message: err.message.replace(/^[^:]+: /, '') }],
    };
  }
  return { ok: true, profile: parsed.data };
}

/** `spec.x: msg; spec.y: msg` for logs, events and CLI output. */
export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}
