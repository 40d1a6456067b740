import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse } from 'yaml';
import { register as registerController } from '../../../src/cli/controller.js';
import { nonNegativeFlag, numericFlags, portFlag, positiveFlag } from '../../../src/cli/flags.js';
import { register as registerNodeAgent } from '../../../src/cli/node-agent.js';
import { register as registerWebhook } from '../../../src/cli/webhook.js';
import { PODFENCE_VERSION } from '../../../src/common/version.js';

/** Runs the real command line up to its checks (the checks come before anything is started). */
async function run(args: string[]): Promise<void> {
  const program = new Command('podfence').exitOverride();
  for (const register of [registerController, registerNodeAgent, registerWebhook]) register(program);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await program.parseAsync(args, { from: 'user' });
}

describe('numeric flags', () => {
  test('a value that is not a number stops the process with an error naming the flag', async () => {
    await expect(run(['controller', '--resync-seconds', 'abc'])).rejects.toThrow(
      '--resync-seconds "abc": must be a whole number',
    );
    await expect(run(['node-agent', '--node-name', 'n1', '--resync-seconds', '1e3'])).rejects.toThrow(
      '--resync-seconds "1e3": must be a whole number',
    );
    await expect(run(['webhook', '--namespace', 'ns', '--ops-port', '99999', '--port', ''])).rejects.toThrow(
      '--port "": must be a whole number; --ops-port "99999": must be at most 65535',
    );
    await expect(run(['controller', '--max-concurrent-reconciles', '0'])).rejects.toThrow(
      '--max-concurrent-reconciles "0": must be at least 1',
    );
  });

  test('numbers in range are parsed', () => {
    expect(
      numericFlags(
        { opsPort: '0', resyncSeconds: ' 120 ', retireGraceSeconds: '0', other: 'x' },
        { opsPort: portFlag, resyncSeconds: positiveFlag, retireGraceSeconds: nonNegativeFlag },
      ),
    ).toEqual({ opsPort: 0, resyncSeconds: 120, retireGraceSeconds: 0 });
    expect(() => numericFlags({ resyncSeconds: '0' }, { resyncSeconds: positiveFlag })).toThrow(
      '--resync-seconds "0": must be at least 1',
    );
  });
});

test('the version is written once: package.json and the chart carry the same', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const chart = parse(readFileSync('charts/podfence/Chart.yaml', 'utf8')) as { appVersion: string };
  expect(pkg.version).toBe(PODFENCE_VERSION);
  expect(chart.appVersion).toBe(PODFENCE_VERSION);
});
