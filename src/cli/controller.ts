import type { Command } from 'commander';

// Scaffolding: replaced by the issue that owns the `controller` subcommand.
export function register(program: Command): void {
  program.command('controller').description('(not built yet)').action(() => {
    throw new Error('podfence controller is not available in this build');
  });
}
