// The stack from the command line (scripts/demo.sh calls it):
//   node test/node/stack-cli.js demo [--keep]   cluster + node + podfence (helm install of the chart), a sandboxed
//                                               pod beside a control pod; exit 1 when the table does not hold
//   node test/node/stack-cli.js up [--no-podfence]  the same stack without the pods, left running; prints KUBECONFIG
//   node test/node/stack-cli.js down            stops whatever a previous `demo --keep` / `up` (or a killed run) left
import { loadNodeModule } from './load.js';

const [cmd, ...rest] = process.argv.slice(2);
const t0 = Date.now();
const log = (m) => process.stderr.write(`[podfence] ${m}\n`);

try {
  if (cmd === 'demo') {
    const { runDemo } = await loadNodeModule('demo');
    const keep = rest.includes('--keep');
    // false: the table or the admission report does not show what the demo promises (printed as RESULT: FAILED).
    if (!(await runDemo({ keep, log }))) process.exit(1);
  } else if (cmd === 'up') {
    const { startStack } = await loadNodeModule('stack');
    const stack = await startStack({ detach: true, log, podfence: !rest.includes('--no-podfence') });
    log(`up in ${((Date.now() - t0) / 1000).toFixed(0)} s; stop with: npm run demo:down`);
    console.log(`export KUBECONFIG=${stack.kubeconfigPath}`);
  } else if (cmd === 'down') {
    const { stopStackFromState } = await loadNodeModule('stack');
    await stopStackFromState();
    log('stopped (cluster, node, podfence); nothing is left running');
  } else {
    console.error('usage: stack-cli.js demo [--keep] | up | down');
    process.exit(2);
  }
  process.exit(0);
} catch (err) {
  log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
