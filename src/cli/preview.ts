import type { Command } from 'commander';

// Scaffolding: replaced by the issue that owns the `preview` subcommand.
export function register(program: Command): void {
  program.command('preview').description('(not built yet)').action(() => {
    throw new Error('podfence preview is not available in this build');
  });
}
