import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { allCrds, renderCrd, toStructural } from '../../../src/profile/crd.js';
import { ALL_SYSCALLS } from '../../../src/profile/index.js';

const crds = allCrds();

describe('generated CRDs', () => {
  test.each(Object.keys(crds))('crds/%s is what the zod schema generates (run `npm run gen:crd`)', (file) => {
    const checkedIn = readFileSync(join(process.cwd(), 'crds', file), 'utf8');
    expect(checkedIn).toBe(renderCrd(crds[file]!));
  });

  /** Every schema node in the tree, with its JSON path. */
  function* nodes(s: Record<string, unknown>, path = '$'): Generator<[string, Record<string, unknown>]> {
    yield [path, s];
    for (const [k, v] of Object.entries((s.properties as Record<string, Record<string, unknown>>) ?? {})) {
      yield* nodes(v, `${path}.${k}`);
    }
    if (s.items) yield* nodes(s.items as Record<string, unknown>, `${path}[]`);
  }

  test.each(Object.keys(crds))(
    '%s is structural: every node typed, no $ref/anyOf/untyped additionalProperties',
    (file) => {
      const crd = parse(readFileSync(join(process.cwd(), 'crds', file), 'utf8'));
      const version = crd.spec.versions[0];
      expect(crd.spec.scope).toBe('Cluster');
      expect(version.subresources).toEqual({ status: {} });
      for (const [path, node] of nodes(version.schema.openAPIV3Schema)) {
        expect([path, typeof node.type]).toEqual([path, 'string']);
        for (const key of ['$ref', 'anyOf', 'oneOf', 'allOf', '$schema', 'const']) {
          expect([path, key in node]).toEqual([path, false]);
        }
        // A map (the admission parameters' data) is structural when its values are typed.
        if ('additionalProperties' in node)
          expect([path, node.additionalProperties]).toEqual([path, { type: 'string' }]);
      }
    },
  );

  test('the profile CRD carries the constraints: enums, absolute paths, ports, syscalls, name length', () => {
    const crd = crds['podfence.dev_sandboxprofiles.yaml'] as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const v = crd.spec.versions[0];
    const spec = v.schema.openAPIV3Schema.properties.spec.properties;
    expect(crd.spec.names.shortNames).toEqual(['sbp']);
    expect(spec.preset.enum).toEqual(['computation', 'network-server', 'file-processor', 'none']);
    expect(spec.landlock.properties.readOnly.items.pattern).toMatch(/^\^/);
    expect(new RegExp(spec.landlock.properties.readOnly.items.pattern).test('usr/lib')).toBe(false);
    expect(spec.landlock.properties.tcp.properties.bind.items).toMatchObject({ minimum: 1, maximum: 65535 });
    expect(spec.capabilities.properties.keep.items.enum).toContain('NET_BIND_SERVICE');
    expect(spec.seccomp.properties.allow.items.enum).toEqual(ALL_SYSCALLS);
    expect(spec.seccomp.properties.allow.items.enum).toEqual(
      expect.arrayContaining(['landlock_restrict_self', 'openat']),
    );
    expect(spec.seccomp.properties.allow['x-kubernetes-list-type']).toBe('set');
    expect(v.schema.openAPIV3Schema['x-kubernetes-validations'][0].rule).toContain('<= 40');
    expect(v.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['Preset', 'Mode', 'Ready', 'Nodes', 'Age']),
    );
    expect(v.schema.openAPIV3Schema.properties.status.properties.conditions['x-kubernetes-list-map-keys']).toEqual([
      'type',
    ]);
  });

  test('toStructural refuses what a structural schema cannot hold', () => {
    expect(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toThrow(/anyOf/);
    expect(() => toStructural({ type: 'object', additionalProperties: { type: 'string' } })).toThrow(
      /additionalProperties/,
    );
    expect(() => toStructural({ description: 'x' })).toThrow(/no type/);
    expect(toStructural({ type: 'string', const: 'a' })).toEqual({ type: 'string', enum: ['a'] });
    expect(toStructural({ type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: 5 })).toEqual({
      type: 'integer',
      maximum: 5,
    });
  });
});
