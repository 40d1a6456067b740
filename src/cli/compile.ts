import type { Command } from 'commander';

// Scaffolding: replaced by the issue that owns the `compile` subcommand.
export function register(program: Command): void {
  program.command('compile').description('(not built yet)').action(() => {
    throw new Error('podfence compile is not available in this build');
  });
}
