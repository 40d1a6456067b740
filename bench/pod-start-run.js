// Runs bench/pod-start.ts from plain Node (like the demo: Node 20 cannot run TypeScript). Transpiles it next to
// the node harness's transpiled copy (test/node/load.js) and runs it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { loadNodeModule } from '../test/node/load.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const pairs = Number(opt('pairs', '20'));
const mode = opt('mode', 'csi');
if (!Number.isInteger(pairs) || pairs < 1) throw new Error('--pairs must be a positive integer');
if (mode !== 'csi' && mode !== 'init') throw new Error('--mode must be csi or init');

await loadNodeModule('stack'); // transpiles test/node, test/cluster, src/common into the cache
const out = join(repo, 'node_modules', '.cache', 'podfence-node', 'bench');
mkdirSync(out, { recursive: true });
const { outputText } = ts.transpileModule(readFileSync(join(repo, 'bench', 'pod-start.ts'), 'utf8'), {
  fileName: 'pod-start.ts',
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
});
writeFileSync(join(out, 'pod-start.js'), outputText);
const { runPodStartBench } = await import(pathToFileURL(join(out, 'pod-start.js')).href);
try {
  await runPodStartBench({ pairs, mode, log: (m) => process.stderr.write(`[bench] ${m}\n`) });
  process.exit(0);
} catch (err) {
  process.stderr.write(`[bench] FAILED: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
}
