import type { Command } from 'commander';

// Scaffolding: replaced by the issue that owns the `webhook` subcommand.
export function register(program: Command): void {
  program.command('webhook').description('(not built yet)').action(() => {
    throw new Error('podfence webhook is not available in this build');
  });
}
