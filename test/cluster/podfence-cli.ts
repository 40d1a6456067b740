import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

/**
 * Path of `dist/src/cli.js` for tests that run podfence as a process. scripts/setup.sh builds dist/; this rebuilds it
 * when a file under src/ is newer (a developer running one test file after an edit).
 */
export function ensurePodfenceCli(log: (m: string) => void = () => undefined): string {
  const REPO_ROOT = repoRoot();
  const cli = join(REPO_ROOT, 'dist', 'src', 'cli.js');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (!existsSync(cli) || statSync(cli).mtimeMs < newest(join(REPO_ROOT, 'src'))) {
    log('building podfence (tsc -p tsconfig.build.json)');
    const r = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('tsc -p tsconfig.build.json failed');
  }
  if (!existsSync(cli)) throw new Error('dist/src/cli.js missing: run `npm run build:ts`');
  return cli;
}
