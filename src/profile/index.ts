// The SandboxProfile model and its compilers: pure functions, no I/O. See docs/architecture.md.
export {
  SandboxProfileSchema,
  SandboxProfileSpecSchema,
  SandboxProfileStatusSchema,
  PRESETS,
  CAPABILITIES,
  ARCHITECTURES,
  type SandboxProfile,
  type SandboxProfileSpec,
  type SandboxProfileStatus,
  type Preset,
  type Architecture,
} from './schema.js';
export { NodeReportStatusSchema, type NodeReportStatus } from './node-report.js';
export { validateProfile, formatErrors, type FieldError, type ValidationResult } from './validate.js';
export { resolveProfile, type ResolvedProfile } from './resolve.js';
export { compileSeccomp, seccompFor, type CompiledSeccomp, type OciSeccomp } from './seccomp.js';
export { compileLandlockArgs, landlockArgsFor, type LandlockExtra } from './landlock.js';
export { requiredLandlockAbi } from './landlock-abi.js';
export { compileProfile, compileProfileObject, type CompiledProfile, type CompileResult } from './compiled.js';
export {
  securityContextFor,
  profileVersion,
  UNPRIVILEGED_PORT_SYSCTL,
  type SecurityContexts,
} from './security-context.js';
export { ALL_SYSCALLS, ALWAYS_ALLOWED, ALWAYS_DENIED } from './syscalls.js';
