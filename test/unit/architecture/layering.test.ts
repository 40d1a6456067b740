import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The processes (controller, node agent, webhook) are peers: none imports another's folder, and the layers below
// them (common, kube, profile, model, registry, certs) import no process. Read from the sources' own imports.

const SRC = resolve('src');
const PROCESSES = ['controller', 'node-agent', 'webhook'];
const BELOW = ['common', 'kube', 'profile', 'model', 'registry', 'certs'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Top-level folder under src/ of every relative import (static, re-export or dynamic) of one file. */
function importedFolders(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)).split('/')[0]!);
}

function folderOf(file: string): string {
  return relative(SRC, file).split('/')[0]!;
}

const imports = files(SRC).map((f) => ({
  file: relative(process.cwd(), f),
  from: folderOf(f),
  to: importedFolders(f, readFileSync(f, 'utf8')),
}));

test('the import reader sees static, type-only, re-export and dynamic imports', () => {
  const f = join(SRC, 'node-agent', 'x.ts');
  const text = [
    "import { a } from '../controller/a.js';",
    "import type { B } from '../webhook/b.js';",
    "export { c } from '../model/c.js';",
    "const d = await import('../cli/d.js');",
    "import './side-effect.js';",
  ].join('\n');
  expect(importedFolders(f, text)).toEqual(['controller', 'webhook', 'model', 'cli', 'node-agent']);
});

test.each(PROCESSES)('src/%s imports no other process folder', (proc) => {
  const wrong = imports
    .filter((i) => i.from === proc)
    .flatMap((i) => i.to.filter((t) => t !== proc && PROCESSES.includes(t)).map((t) => `${i.file} -> src/${t}`));
  expect(wrong).toEqual([]);
});

test('the shared layers import no process folder and not the CLI', () => {
  const wrong = imports
    .filter((i) => BELOW.includes(i.from))
    .flatMap((i) => i.to.filter((t) => [...PROCESSES, 'cli', 'cli.ts'].includes(t)).map((t) => `${i.file} -> ${t}`));
  expect(wrong).toEqual([]);
});

test('every source folder is known to this test (a new one must be placed in a layer)', () => {
  const known = new Set([...PROCESSES, ...BELOW, 'cli', 'cli.ts']);
  expect([...new Set(imports.map((i) => i.from))].filter((f) => !known.has(f))).toEqual([]);
});
