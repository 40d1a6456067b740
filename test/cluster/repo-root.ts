// The checkout's root, wherever the calling code runs from: its TypeScript source under test/ (ts-jest), or its
// transpiled copy under node_modules/.cache/ (the demo, jest's global setup), where paths relative to the file
// point into the cache. PODFENCE_REPO_ROOT (set by the loaders) wins; else the nearest package.json named
// "podfence" above this file.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: string | undefined;

/** Walks up from `start` to the directory whose package.json is named `podfence`. */
export function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'podfence') return dir;
      } catch {
        // not JSON: keep walking
      }
    }
    if (dirname(dir) === dir) throw new Error(`no package.json named podfence above ${start}`);
  }
}

export function repoRoot(): string {
  found ??= process.env.PODFENCE_REPO_ROOT || findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  return found;
}
