// Writes crds/*.yaml from the zod schemas (src/profile/crd.ts). `--check`: exit 1 when the files differ.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allCrds, renderCrd } from '../src/profile/crd.js';

// dist/scripts/gen-crd.js -> repository root (two levels up), or the cwd when run from elsewhere.
const here = dirname(fileURLToPath(import.meta.url));
const repo = existsSync(resolve(here, '../../package.json')) ? resolve(here, '../..') : process.cwd();
const dir = join(repo, 'crds');
const check = process.argv.includes('--check');

let stale = 0;
mkdirSync(dir, { recursive: true });
for (const [file, crd] of Object.entries(allCrds())) {
  const path = join(dir, file);
  const text = renderCrd(crd);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (current === text) continue;
  if (check) {
    console.error(`${path} differs from the schema: run npm run gen:crd`);
    stale++;
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale ? 1 : 0);
