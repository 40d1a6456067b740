import { z } from 'zod';
import { ALL_SYSCALLS } from './syscalls.js';

// The SandboxProfile model: the single source of truth. The CRD's OpenAPI schema is generated from these schemas
// (scripts/gen-crd.ts, src/profile/crd.ts), so everything the apiserver can check is expressed here as plain JSON
// Schema (types, enums, patterns, bounds, list-type set); what it cannot (cross-field rules) is in validate.ts.
// Defaults are NOT written into the schema: resolveProfile applies them, so a changed default reaches old objects.

export const PRESETS = ['computation', 'network-server', 'file-processor', 'none'] as const;
export type Preset = (typeof PRESETS)[number];

/** Kubernetes capability names (no CAP_ prefix), as in a container's securityContext.capabilities. */
export const CAPABILITIES = [
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYSLOG',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'WAKE_ALARM',
] as const;

export const ARCHITECTURES = ['x86_64', 'aarch64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const SECCOMP_OPS = ['EQ', 'NE', 'LT', 'LE', 'GT', 'GE', 'MASKED_EQ'] as const;

const oneOf = (values: readonly string[]) => () => `must be one of: ${values.join(', ')}`;

/** A list whose order does not matter and whose entries must be unique (the CRD says list-type set). */
const setOf = <T extends z.ZodType>(item: T, what: string) =>
  z
    .array(item)
    .refine((a) => new Set(a as unknown[]).size === a.length, { error: `must not repeat a ${what}` })
    .meta({ 'x-kubernetes-list-type': 'set' });

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const profileName = z
  .string()
  .max(40, { error: 'must be at most 40 characters' })
  .regex(new RegExp(DNS_LABEL), { error: 'must be a DNS label (lower-case letters, digits and -)' });

const absolutePath = z
  .string()
  .min(1, { error: 'must be an absolute path' })
  .max(4095, { error: 'must be at most 4095 bytes' })
  .regex(new RegExp('^/'), { error: 'must be an absolute path' })
  .refine((p) => !p.split('/').includes('..'), { error: "must not contain '..'" })
  .refine((p) => !/[\0\n]/.test(p), { error: 'must not contain NUL or newline' });

const port = z
  .number({ error: 'must be a TCP port number (1-65535)' })
  .int({ error: 'must be a TCP port number (1-65535)' })
  .min(1, { error: 'must be a TCP port number (1-65535)' })
  .max(65535, { error: 'must be a TCP port number (1-65535)' });

const syscallName = z.enum(ALL_SYSCALLS as [string, ...string[]], {
  error: (iss) => `unknown syscall name ${JSON.stringify(iss.input)} (not a Linux syscall on x86_64 or aarch64)`,
});

const id = (what: string, min: number) =>
  z
    .number({ error: `must be an integer ${what}` })
    .int({ error: `must be an integer ${what}` })
    .min(min, { error: `must be >= ${min}` })
    .max(2147483647, { error: 'must be <= 2147483647' });

export const UserSchema = z
  .strictObject({
    runAsUser: id('user id', 1).optional().describe('User id of every container (default 65534). Root (0) is refused.'),
    runAsGroup: id('group id', 0).optional().describe('Primary group id (default 65534).'),
    fsGroup: id('group id', 0).optional().describe('Pod fsGroup (volume ownership); unset by default.'),
  })
  .describe('The non-root user the pod runs as.');

export const CapabilitiesSchema = z
  .strictObject({
    keep: setOf(z.enum(CAPABILITIES, { error: oneOf(CAPABILITIES) }), 'capability')
      .optional()
      .describe('Capabilities kept (Kubernetes names, no CAP_ prefix); every other capability is dropped.'),
  })
  .describe('Linux capabilities: all dropped except `keep`.');

const SeccompArgSchema = z.strictObject({
  index: z
    .number({ error: 'must be an argument index 0-5' })
    .int({ error: 'must be an argument index 0-5' })
    .min(0, { error: 'must be an argument index 0-5' })
    .max(5, { error: 'must be an argument index 0-5' })
    .describe('Syscall argument index (0-5).'),
  op: z.enum(SECCOMP_OPS, { error: oneOf(SECCOMP_OPS) }).describe('Comparison (SCMP_CMP_<op>).'),
  value: z
    .number({ error: 'must be a non-negative integer' })
    .int({ error: 'must be a non-negative integer' })
    .min(0, { error: 'must be a non-negative integer' })
    .describe('Value compared with the argument (for MASKED_EQ: the mask).'),
  valueTwo: z
    .number({ error: 'must be a non-negative integer' })
    .int({ error: 'must be a non-negative integer' })
    .min(0, { error: 'must be a non-negative integer' })
    .optional()
    .describe('For MASKED_EQ: the value the masked argument must equal.'),
});

/** An errno value as seccomp's errnoRet takes it (SECCOMP_RET_DATA is 16 bits; Linux errnos stay below 4096). */
const errnoNumber = () =>
  z
    .number({ error: 'must be an errno number 1-4095' })
    .int({ error: 'must be an errno number 1-4095' })
    .min(1, { error: 'must be an errno number 1-4095' })
    .max(4095, { error: 'must be an errno number 1-4095' });

export const SECCOMP_RULE_ACTIONS = ['allow', 'errno', 'kill', 'log'] as const;
const SeccompRuleSchema = z.strictObject({
  names: setOf(syscallName, 'syscall')
    .min(1, { error: 'must name at least one syscall' })
    .describe('Syscalls the rule applies to.'),
  action: z
    .enum(SECCOMP_RULE_ACTIONS, { error: oneOf(SECCOMP_RULE_ACTIONS) })
    .describe('allow | errno (return spec.seccomp.errno) | kill (the process) | log (allow and log).'),
  errno: errnoNumber().optional().describe('errno for action errno (default: spec.seccomp.errno).'),
  args: z
    .array(SeccompArgSchema)
    .max(6, { error: 'must have at most 6 conditions' })
    .optional()
    .describe('Conditions on the arguments; all must hold (conditions on different indexes are ANDed).'),
});

/** Socket kinds a profile may allow (`spec.seccomp.sockets`); seccomp.ts compiles them to `socket` argument rules. */
export const SOCKET_KINDS = ['icmp', 'netlink', 'tcp', 'udp', 'unix'] as const;
export type SocketKind = (typeof SOCKET_KINDS)[number];

export const SECCOMP_DEFAULT_ACTIONS = ['errno', 'kill', 'log'] as const;
export const SeccompSchema = z
  .strictObject({
    defaultAction: z
      .enum(SECCOMP_DEFAULT_ACTIONS, { error: oneOf(SECCOMP_DEFAULT_ACTIONS) })
      .optional()
      .describe('What a syscall not allowed gets: errno (default), kill (the process, SIGSYS), log (allowed, logged).'),
    errno: errnoNumber().optional().describe('errno returned by denied syscalls (default 1, EPERM).'),
    allow: setOf(syscallName, 'syscall')
      .optional()
      .describe('Syscalls allowed on top of the preset. The always-denied set (mount, ptrace, bpf, ...) is refused.'),
    deny: setOf(syscallName, 'syscall')
      .optional()
      .describe('Syscalls removed from the allow-list. The wrapper syscalls (landlock_*, prctl, execve) are refused.'),
    rules: z.array(SeccompRuleSchema).optional().describe('Extra rules with argument conditions.'),
    sockets: setOf(z.enum(SOCKET_KINDS, { error: oneOf(SOCKET_KINDS) }), 'socket kind')
      .optional()
      .describe(
        'Sockets the workload may create: unix, tcp (IPv4/6 stream), udp (IPv4/6 datagram), icmp (ping ' +
          'sockets), netlink (route). Every other family and type is refused. Default per preset.',
      ),
    allowJit: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe(
        'Allow memory that is written and then executed (JIT compilers: Node.js, Java, .NET, PyPy, LuaJIT; ' +
          'Java ZGC). Default false: writable+executable and anonymous executable mmap, mprotect adding ' +
          'PROT_EXEC, shmat SHM_EXEC and memfd_create without MFD_NOEXEC_SEAL are refused.',
      ),
    architectures: setOf(z.enum(ARCHITECTURES, { error: oneOf(ARCHITECTURES) }), 'architecture')
      .min(1, { error: 'must list at least one architecture' })
      .optional()
      .describe('Architectures the profile covers (default x86_64 and aarch64; their 32-bit modes are refused).'),
  })
  .describe('The seccomp allow-list compiled to an OCI seccomp profile.');

export const LANDLOCK_SCOPES = ['signal', 'abstract-unix-socket'] as const;
export const LandlockSchema = z
  .strictObject({
    mode: z
      .enum(['enforce', 'best-effort'], { error: oneOf(['enforce', 'best-effort']) })
      .optional()
      .describe(
        'enforce (default): the container fails to start when the kernel lacks what the rules need; best-effort.',
      ),
    baseline: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe('Add /dev/null etc., /proc read and the dynamic loaders (default true).'),
    readOnly: setOf(absolutePath, 'path').optional().describe('Paths readable beneath (absolute).'),
    readWrite: setOf(absolutePath, 'path').optional().describe('Paths readable and writable beneath (absolute).'),
    execute: setOf(absolutePath, 'path').optional().describe('Paths executable (and readable) beneath (absolute).'),
    tcp: z
      .strictObject({
        bind: setOf(port, 'port').optional().describe('TCP ports the workload may bind.'),
        connect: setOf(port, 'port').optional().describe('TCP ports the workload may connect to.'),
      })
      .optional()
      .describe('Present: TCP bind/connect restricted to these ports (Landlock ABI 4). Absent: TCP not restricted.'),
    scope: setOf(z.enum(LANDLOCK_SCOPES, { error: oneOf(LANDLOCK_SCOPES) }), 'scope')
      .optional()
      .describe('IPC scoping (Landlock ABI 6): signal, abstract-unix-socket.'),
    missingPaths: z
      .enum(['skip', 'fail'], { error: oneOf(['skip', 'fail']) })
      .optional()
      .describe('A listed path missing in the image: skip with a warning (default) or fail.'),
    trustVolumes: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe("Grant each mounted volume's directory, read-only or read-write as mounted (default true)."),
  })
  .describe('Landlock rules applied by podfence-init in front of each container entrypoint.');

export const SandboxProfileSpecSchema = z
  .strictObject({
    preset: z
      .enum(PRESETS, { error: oneOf(PRESETS) })
      .optional()
      .describe('Starting point: computation | network-server | file-processor | none (default).'),
    mode: z
      .enum(['enforce', 'audit'], { error: oneOf(['enforce', 'audit']) })
      .optional()
      .describe('enforce (default) or audit: seccomp logs instead of denying and Landlock is not applied.'),
    user: UserSchema.optional(),
    capabilities: CapabilitiesSchema.optional(),
    seccomp: SeccompSchema.optional(),
    landlock: LandlockSchema.optional(),
    allowOverrideTo: setOf(profileName, 'profile name')
      .optional()
      .describe('Profiles a pod or container in a namespace using this profile may switch to by annotation.'),
    allowHost: z
      .strictObject({
        network: z.boolean({ error: 'must be true or false' }).optional().describe('Allow hostNetwork pods.'),
        pid: z.boolean({ error: 'must be true or false' }).optional().describe('Allow hostPID pods.'),
        ipc: z.boolean({ error: 'must be true or false' }).optional().describe('Allow hostIPC pods.'),
        hostPath: z.boolean({ error: 'must be true or false' }).optional().describe('Allow hostPath volumes.'),
      })
      .optional()
      .describe('Host escapes, all denied unless set true here.'),
  })
  .describe('The sandbox: user, capabilities, seccomp and Landlock.');

const ConditionSchema = z.object({
  type: z.string().describe('Condition type (Ready).'),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  observedGeneration: z.number().int().min(0).optional(),
  lastTransitionTime: z.string().optional().meta({ format: 'date-time' }),
});

/** Written by the controller only (status subresource). */
export const SandboxProfileStatusSchema = z
  .object({
    observedGeneration: z.number().int().min(0).optional(),
    seccompProfilePath: z.string().optional().describe('The localhostProfile value pods get.'),
    hash: z.string().optional().describe('Compiled seccomp version (16 hex characters).'),
    nodes: z
      .object({ installed: z.number().int().min(0), total: z.number().int().min(0) })
      .optional()
      .describe('Nodes that have the compiled profile installed, of all nodes.'),
    pods: z.number().int().min(0).optional().describe('Pods using the profile.'),
    blockingPods: z.array(z.string()).optional().describe('Pods still using the profile while deletion waits.'),
    conditions: z
      .array(ConditionSchema)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  })
  .describe('Filled by the controller.');

export const SandboxProfileSchema = z.looseObject({
  apiVersion: z.literal('podfence.dev/v1alpha1', { error: 'must be podfence.dev/v1alpha1' }),
  kind: z.literal('SandboxProfile', { error: 'must be SandboxProfile' }),
  metadata: z.looseObject({ name: profileName }),
  spec: SandboxProfileSpecSchema.optional(),
});

export type SandboxProfile = z.infer<typeof SandboxProfileSchema>;
export type SandboxProfileSpec = z.infer<typeof SandboxProfileSpecSchema>;
export type SandboxProfileStatus = z.infer<typeof SandboxProfileStatusSchema>;
export type SeccompRule = z.infer<typeof SeccompRuleSchema>;
