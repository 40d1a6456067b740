import type { Command } from 'commander';

// Scaffolding: replaced by the issue that owns the `node-agent` subcommand.
export function register(program: Command): void {
  program.command('node-agent').description('(not built yet)').action(() => {
    throw new Error('podfence node-agent is not available in this build');
  });
}
