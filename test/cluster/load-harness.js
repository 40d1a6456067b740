// Loads the harness's TypeScript from plain Node (jest's global setup and the cluster:up script run outside
// ts-jest, and Node 20 cannot run TypeScript): transpiles test/cluster/*.ts, one file at a time and without type
// checking (`npm run typecheck` does that), into node_modules/.cache/podfence-cluster/ and imports from there.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const srcDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(srcDir, '..', '..', 'node_modules', '.cache', 'podfence-cluster');

/** Write-then-rename: several jest runs may share this checkout and must never import a half-written file. */
function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function transpileAll() {
  mkdirSync(outDir, { recursive: true });
  // Inside node_modules the project's "type": "module" does not apply: say it again.
  writeAtomic(join(outDir, 'package.json'), '{ "type": "module" }\n');
  for (const f of readdirSync(srcDir)) {
    if (!f.endsWith('.ts') || f.endsWith('.d.ts') || f.endsWith('.test.ts')) continue;
    const { outputText } = ts.transpileModule(readFileSync(join(srcDir, f), 'utf8'), {
      fileName: f,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
    });
    writeAtomic(join(outDir, f.replace(/\.ts$/, '.js')), outputText);
  }
}

let transpiled = false;

/** Imports test/cluster/<name>.ts (default: the harness) from its transpiled copy. */
export async function loadClusterModule(name = 'harness') {
  if (!transpiled) {
    transpileAll();
    transpiled = true;
  }
  // The copies find the checkout (paths.sh, scripts) through this, not from their own location.
  process.env.PODFENCE_REPO_ROOT = join(srcDir, '..', '..');
  return import(pathToFileURL(join(outDir, `${name}.js`)).href);
}
