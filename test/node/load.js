// Runs the node/stack TypeScript from plain Node (scripts/demo.sh and the stack CLI run outside ts-jest, and Node
// 20 cannot run TypeScript): transpiles test/node, test/cluster, test/chart and test/e2e (their helpers, not their
// tests: the chart stack's loopback registry is test/e2e/registry.ts) and src/common, one file at a time and without type checking (`npm run typecheck` does that), into
// node_modules/.cache/podfence-node/ with the same relative layout, and imports from there. The copies find the
// checkout through PODFENCE_REPO_ROOT (test/cluster/repo-root.ts), never from their own location.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outRoot = join(repo, 'node_modules', '.cache', 'podfence-node');
const dirs = ['test/node', 'test/cluster', 'test/chart', 'test/e2e', 'src/common'];

function transpileAll() {
  mkdirSync(outRoot, { recursive: true });
  // Inside node_modules the project's "type": "module" does not apply: say it again.
  writeFileSync(join(outRoot, 'package.json'), '{ "type": "module" }\n');
  for (const dir of dirs) {
    mkdirSync(join(outRoot, dir), { recursive: true });
    for (const f of readdirSync(join(repo, dir))) {
      if (!f.endsWith('.ts') || f.endsWith('.d.ts') || f.endsWith('.test.ts')) continue;
      const { outputText } = ts.transpileModule(readFileSync(join(repo, dir, f), 'utf8'), {
        fileName: f,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
      });
      writeFileSync(join(outRoot, dir, f.replace(/\.ts$/, '.js')), outputText);
    }
  }
}

/** Imports test/node/<name>.ts from its transpiled copy. */
export async function loadNodeModule(name) {
  transpileAll();
  process.env.PODFENCE_REPO_ROOT = repo;
  return import(pathToFileURL(join(outRoot, 'test', 'node', `${name}.js`)).href);
}
