// Property-based tests of the pure mutation over generated pods: idempotency, every container sandboxed, nothing
// else of the pod changed.
import fc from 'fast-check';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  APPLIED_ANNOTATION,
  INIT_BINARY,
  INIT_CONTAINER_NAME,
  INIT_VOLUME_NAME,
} from '../../../src/common/constants.js';
import { effectiveCommand } from '../../../src/webhook/effective-command.js';
import { mutatePod } from '../../../src/webhook/mutation/mutate.js';
import { LANDLOCK_SKIPPED_ANNOTATION } from '../../../src/webhook/names.js';
import type { MutationContext } from '../../../src/webhook/types.js';
import { context, profileInfo } from './fixtures.js';

const word = fc.stringMatching(/^[a-z0-9$()./ -]{0,12}$/);
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const path = fc.stringMatching(/^\/(data|etc|var|srv|opt)(\/[a-z]{1,4}){0,2}$/);

const harmlessSc = fc.record(
  {
    runAsUser: fc.integer({ min: 1, max: 70000 }),
    readOnlyRootFilesystem: fc.boolean(),
    allowPrivilegeEscalation: fc.constant(false),
    privileged: fc.constant(false),
    seccompProfile: fc.constantFrom({ type: 'RuntimeDefault' }, { type: 'Localhost', localhostProfile: 'x.json' }),
    capabilities: fc.record({ drop: fc.constant(['NET_RAW']), add: fc.constantFrom([], ['NET_BIND_SERVICE']) }),
  },
  { requiredKeys: [] },
);

const container = (volumeNames: string[]) =>
  fc.record(
    {
      name,
      image: fc.constantFrom('reg/a:1', 'reg/b@sha256:' + 'a'.repeat(64)),
      command: fc.array(word, { minLength: 1, maxLength: 3 }),
      args: fc.array(word, { maxLength: 3 }),
      env: fc.array(fc.record({ name: name, value: word }), { maxLength: 2 }),
      ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }) }), { maxLength: 2 }),
      workingDir: path,
      securityContext: harmlessSc,
      livenessProbe: fc.record({ httpGet: fc.record({ port: fc.integer({ min: 1, max: 65535 }) }) }),
      volumeMounts: volumeNames.length
        ? fc.array(
            fc.record(
              { name: fc.constantFrom(...volumeNames), mountPath: path, readOnly: fc.boolean() },
              { requiredKeys: ['name', 'mountPath'] },
            ),
            { maxLength: 2 },
          )
        : fc.constant(undefined),
    },
    { requiredKeys: ['name', 'image'] },
  );

const podArb: fc.Arbitrary<V1Pod> = fc
  .uniqueArray(name, { minLength: 0, maxLength: 2 })
  .chain((volumeNames) =>
    fc.record({
      apiVersion: fc.constant('v1'),
      kind: fc.constant('Pod'),
      metadata: fc.record(
        {
          name,
          namespace: fc.constant('shop'),
          labels: fc.dictionary(name, name, { maxKeys: 2 }),
          annotations: fc.dictionary(name, word, { maxKeys: 2 }),
        },
        { requiredKeys: ['name'] },
      ),
      spec: fc.record(
        {
          containers: fc.uniqueArray(container(volumeNames), { minLength: 1, maxLength: 3, selector: (c) => c.name }),
          initContainers: fc.uniqueArray(container(volumeNames), { maxLength: 2, selector: (c) => c.name }),
          volumes: fc.constant(volumeNames.map((n) => ({ name: n, emptyDir: {} }))),
          serviceAccountName: name,
          nodeSelector: fc.dictionary(name, name, { maxKeys: 1 }),
          securityContext: fc.record(
            { fsGroup: fc.integer({ min: 1, max: 9999 }), runAsUser: fc.integer({ min: 1, max: 9 }) },
            { requiredKeys: [] },
          ),
          restartPolicy: fc.constantFrom('Always', 'Never'),
        },
        { requiredKeys: ['containers'] },
      ),
    }),
  )
  // Init and regular container names share one namespace in a pod.
  .filter((p) => {
    const names = [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].map((c) => c.name);
    return new Set(names).size === names.length;
  }) as fc.Arbitrary<V1Pod>;

const ctxArb: fc.Arbitrary<MutationContext> = fc
  .record({
    keep: fc.constantFrom<string[]>([], ['NET_BIND_SERVICE']),
    trustVolumes: fc.boolean(),
    onWeakening: fc.constantFrom('deny' as const, 'overwrite' as const),
  })
  // Generated pods may add NET_BIND_SERVICE: beyond an empty keep list that is only admitted when overwritten.
  .map(({ keep: k, trustVolumes, onWeakening }) => {
    const keep = onWeakening === 'deny' ? ['NET_BIND_SERVICE'] : k;
    const base = context({
      profiles: { web: profileInfo('web', { keepCapabilities: keep, trustVolumes }) },
      // Every container's image resolves to the same config (containers without `command` use it).
      entrypoints: new Proxy({}, { get: () => IMAGE }),
    });
    return { ...base, policy: { ...base.policy, onWeakening } };
  });

/** The pod without every field the mutation owns. */
function strip(p: V1Pod): V1Pod {
  const q = structuredClone(p);
  const ann = { ...(q.metadata?.annotations ?? {}) };
  delete ann[APPLIED_ANNOTATION];
  delete ann[LANDLOCK_SKIPPED_ANNOTATION];
  q.metadata!.annotations = ann;
  const spec = q.spec!;
  delete spec.securityContext;
  delete spec.affinity;
  spec.initContainers = (spec.initContainers ?? []).filter((c) => c.name !== INIT_CONTAINER_NAME);
  spec.volumes = (spec.volumes ?? []).filter((v) => v.name !== INIT_VOLUME_NAME);
  for (const c of [...spec.containers, ...spec.initContainers] as V1Container[]) {
    delete c.securityContext;
    delete c.command;
    delete c.args;
    c.volumeMounts = (c.volumeMounts ?? []).filter((m) => m.name !== INIT_VOLUME_NAME);
  }
  return q;
}

function mutated(p: V1Pod, ctx: MutationContext): V1Pod {
  const r = mutatePod(p, ctx);
  if (!r.ok) throw new Error(`denied: ${r.denied}`);
  return r.pod;
}

const IMAGE = { ok: true as const, entrypoint: ['/entry', '$X'], cmd: ['serve'] };

const runs = { numRuns: 300 };

test('idempotent: mutating a mutated pod changes nothing', () => {
  fc.assert(
    fc.property(podArb, ctxArb, (p, ctx) => {
      const once = mutated(p, ctx);
      expect(mutated(once, ctx)).toEqual(once);
    }),
    runs,
  );
});

test('every container, init containers included, is sandboxed and wrapped', () => {
  fc.assert(
    fc.property(podArb, ctxArb, (p, ctx) => {
      const out = mutated(p, ctx);
      const web = ctx.profiles.web!;
      expect(out.spec!.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65534,
        seccompProfile: { type: 'Localhost' },
      });
      expect(out.spec!.initContainers![0]!.name).toBe(INIT_CONTAINER_NAME);
      for (const c of [...out.spec!.initContainers!, ...out.spec!.containers]) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          privileged: false,
          runAsNonRoot: true,
          seccompProfile: { type: 'Localhost', localhostProfile: web.seccomp.localhostProfile },
        });
        expect(c.securityContext!.capabilities!.drop).toEqual(['ALL']);
        for (const cap of c.securityContext!.capabilities!.add ?? []) expect(web.keepCapabilities).toContain(cap);
        if (c.name === INIT_CONTAINER_NAME) continue;
        expect(c.command![0]).toBe(INIT_BINARY);
        expect(c.args).toBeUndefined();
        expect(c.volumeMounts).toContainEqual({ name: INIT_VOLUME_NAME, mountPath: '/podfence', readOnly: true });
        // The original command and args follow the wrapper's `--`, unchanged.
        const orig = [...(p.spec!.containers ?? []), ...(p.spec!.initContainers ?? [])].find((o) => o.name === c.name)!;
        const cmd = c.command!;
        expect(cmd.slice(cmd.indexOf('--') + 1)).toEqual(effectiveCommand(orig, IMAGE));
      }
    }),
    runs,
  );
});

test('nothing else of the pod changes', () => {
  fc.assert(
    fc.property(podArb, ctxArb, (p, ctx) => {
      expect(strip(mutated(p, ctx))).toEqual(strip(p));
    }),
    runs,
  );
});
