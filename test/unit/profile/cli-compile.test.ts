import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compileText } from '../../../src/cli/compile.js';
import { compileSeccomp, validateProfile } from '../../../src/profile/index.js';

const web = readFileSync(join(process.cwd(), 'examples/profiles/web.yaml'), 'utf8');
const batch = readFileSync(join(process.cwd(), 'examples/profiles/batch.yaml'), 'utf8');

describe('podfence compile', () => {
  test('YAML in, the compiled seccomp JSON out (same bytes as compileSeccomp)', () => {
    const out = compileText(web, 'web.yaml');
    expect(out.code).toBe(0);
    const v = validateProfile(parse(web));
    if (!v.ok) throw new Error('example invalid');
    expect(out.stdout).toBe(compileSeccomp(v.profile).json);
  });

  test('JSON input works; a List is flattened', () => {
    const obj = { apiVersion: 'podfence.dev/v1alpha1', kind: 'SandboxProfile', metadata: { name: 'j' }, spec: {} };
    expect(compileText(JSON.stringify(obj), 'p.json').code).toBe(0);
    const list = { apiVersion: 'v1', kind: 'List', items: [obj] };
    expect(JSON.parse(compileText(JSON.stringify(list), 'l.json').stdout).defaultAction).toBe('SCMP_ACT_ERRNO');
  });

  test('multi-document: --name picks one, several without --name is an error, --out-dir writes all', () => {
    const both = `${web}\n---\n${batch}`;
    const many = compileText(both, 'all.yaml');
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(/2 profiles \(web, batch\)/);
    expect(compileText(both, 'all.yaml', { name: 'batch' }).stdout).toContain('SCMP_ACT_KILL_PROCESS');
    const files = compileText(both, 'all.yaml', { outDir: '/out' }).files.map((f) => f.path);
    expect(files).toEqual([
      expect.stringMatching(/^\/out\/web-[0-9a-f]{16}\.json$/),
      expect.stringMatching(/^\/out\/batch-/),
    ]);
    expect(compileText(both, 'all.yaml', { path: true }).stdout).toMatch(
      /^web\tpodfence\/web-[0-9a-f]{16}\.json\tversion /,
    );
  });

  test('--landlock prints the podfence-init options', () => {
    const out = compileText(web, 'web.yaml', { landlock: true });
    expect(out.stdout).toMatch(
      /^--mode enforce --missing skip .*--ro \/app .*--bind-tcp 8080 --connect-tcp 443 .*--deny-tcp --scope signal --seccomp-log 1:aarch64=\S+:x86_64=\S+\n$/,
    );
  });

  test('bad input: non-zero with a field-named message', () => {
    const bad = web.replace('bind: [8080]', 'bind: [0]').replace('/app', 'app');
    const out = compileText(bad, 'web.yaml');
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('web.yaml: document 1 (web): spec.landlock.readOnly[0]: must be an absolute path');
    expect(out.stderr).toContain('spec.landlock.tcp.bind[0]: must be a TCP port number (1-65535)');
    expect(compileText('a: [unclosed', 'x.yaml')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/invalid YAML/),
    });
    expect(compileText('', 'empty.yaml')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no SandboxProfile/),
    });
    expect(compileText('kind: Namespace\nmetadata: {name: x}\n', 'ns.yaml').stderr).toMatch(
      /skipped \(kind Namespace\)/,
    );
  });
});
