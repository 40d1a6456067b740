#!/usr/bin/env node
import { Command } from 'commander';
import { PODFENCE_VERSION } from './common/version.js';

type Register = (program: Command) => void;

// Each subcommand's module is imported only when that subcommand runs (all of them for help and unknown input):
// a process then carries only its own dependencies (the controller does without client-node, ~55 MiB of RSS).
const subcommands: [string, () => Promise<{ register: Register }>][] = [
  ['compile', () => import('./cli/compile.js')],
  ['preview', () => import('./cli/preview.js')],
  ['controller', () => import('./cli/controller.js')],
  ['webhook', () => import('./cli/webhook.js')],
  ['node-agent', () => import('./cli/node-agent.js')],
  ['suggest', () => import('./cli/suggest.js')],
];

/** `podfence <subcommand>`: one binary, one image; the mode is the subcommand. */
async function main(): Promise<void> {
  const program = new Command('podfence')
    .description('Layered Linux sandboxes for Kubernetes pods')
    .version(PODFENCE_VERSION);
  const wanted = subcommands.filter(([name]) => name === process.argv[2]);
  for (const [, load] of wanted.length ? wanted : subcommands) (await load()).register(program);
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  process.stderr.write(`podfence: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
