#!/usr/bin/env node
import { Command } from 'commander';
import { register as registerCompile } from './cli/compile.js';
import { register as registerPreview } from './cli/preview.js';
import { register as registerController } from './cli/controller.js';
import { register as registerWebhook } from './cli/webhook.js';
import { register as registerNodeAgent } from './cli/node-agent.js';
import { register as registerSuggest } from './cli/suggest.js';
import { PODFENCE_VERSION } from './common/version.js';

/** `podfence <subcommand>`: one binary, one image; the mode is the subcommand. */
const program = new Command('podfence')
  .description('Layered Linux sandboxes for Kubernetes pods')
  .version(PODFENCE_VERSION);
for (const register of [
  registerCompile,
  registerPreview,
  registerController,
  registerWebhook,
  registerNodeAgent,
  registerSuggest,
]) {
  register(program);
}
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`podfence: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
