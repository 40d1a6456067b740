import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

// The controller's RSS budget (150 MiB) cannot afford @kubernetes/client-node: importing it costs ~55 MiB (its
// generated models load with its KubeConfig). Walk the runtime imports of `podfence controller` from the sources:
// type-only imports are erased by tsc and dynamic imports load only when called (the kubeconfig fallback).

/** Static runtime import specifiers of one file (not `import type`, not all-`type` specifier lists). */
export function runtimeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?([^'";]*?)\s*from\s+['"]([^'"]+)['"]/gms)) {
    if (m[2]) continue;
    const names = /\{([^}]*)\}/.exec(m[3]!)?.[1];
    const onlyTypes =
      names !== undefined &&
      !/^\s*[\w$]+\s*,/.test(m[3]!) &&
      names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .every((n) => n.startsWith('type '));
    if (!onlyTypes) out.push(m[4]!);
  }
  for (const m of text.matchAll(/^import\s+['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  return out;
}

function graph(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const ts = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        walk(existsSync(ts) ? ts : resolve(dirname(file), spec));
      } else if (!spec.startsWith('node:') && !packages.has(spec)) {
        packages.set(spec, relative(process.cwd(), file));
      }
    }
  };
  walk(resolve(entry));
  return packages;
}

test('the import reader skips type-only imports and keeps runtime ones', () => {
  const text = [
    "import type { A } from 'a';",
    "import { type B, type C } from 'b';",
    "import { type D, E } from 'c';",
    "import F, { type G } from 'd';",
    "import { H } from 'e';",
    "export { I } from 'f';",
    "import 'g';",
    "const j = await import('h');",
  ].join('\n');
  expect(runtimeImports(text).sort()).toEqual(['c', 'd', 'e', 'f', 'g']);
});

test('`podfence controller` loads no @kubernetes/client-node at run time', () => {
  const packages = graph('src/cli.ts');
  for (const [pkg, from] of graph('src/cli/controller.ts')) packages.set(pkg, from);
  const clientNode = [...packages].filter(([p]) => p.startsWith('@kubernetes/client-node'));
  expect(clientNode).toEqual([]);
});
