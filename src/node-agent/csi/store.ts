import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from '../files.js';
import { HELPER_FILE } from './names.js';
import { VERSION_NAME, versionsToRemove } from './store-plan.js';

/**
 * The helper store on the node: `<dir>/versions/<content hash>/podfence-init`, every directory and file
 * root-owned and read-only to everyone else, and `<dir>/current`, a symlink naming the version new volumes get.
 *
 * A version directory is written under a temp name and renamed into place (complete or absent), and `current` is
 * switched by renaming a new symlink over it (atomic: a publish sees the old or the new version, never neither).
 * A published volume is a bind mount of one version directory, so a pod keeps the helper it started with; `gc`
 * removes only versions that are neither current nor mounted anywhere (see versionsToRemove).
 */
export class HelperStore {
  readonly versionsDir: string;
  readonly currentLink: string;

  constructor(readonly dir: string) {
    this.versionsDir = join(dir, 'versions');
    this.currentLink = join(dir, 'current');
  }

  /** Copies `binary` in as a version (if that content is not there yet) and makes it current. Returns the version. */
  async install(binary: string): Promise<string> {
    const content = await fs.readFile(binary);
    const version = createHash('sha256').update(content).digest('hex').slice(0, 16);
    await fs.mkdir(this.versionsDir, { recursive: true, mode: 0o755 });
    await fs.chmod(this.dir, 0o755);
    await fs.chmod(this.versionsDir, 0o755);
    const final = this.versionDir(version);
    if (!(await this.isComplete(final, content))) {
      const tmp = join(this.versionsDir, `.tmp-${version}-${randomBytes(4).toString('hex')}`);
      await fs.mkdir(tmp, { mode: 0o755 });
      try {
        await fs.chmod(tmp, 0o755); // mkdir's mode is filtered by the umask
        const handle = await fs.open(join(tmp, HELPER_FILE), 'wx', 0o555);
        try {
          await handle.writeFile(content);
          await handle.chmod(0o555);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await fs.rm(final, { recursive: true, force: true }); // a damaged copy (never a mounted one: same content)
        await fs.rename(tmp, final);
      } catch (err) {
        await fs.rm(tmp, { recursive: true, force: true });
        throw err;
      }
      await fsyncDir(this.versionsDir);
    }
    await this.switchTo(version);
    return version;
  }

  /** The version new volumes get, or undefined before the first install. */
  async current(): Promise<string | undefined> {
    try {
      const target = await fs.readlink(this.currentLink);
      const name = target.split('/').pop() ?? '';
      return VERSION_NAME.test(name) ? name : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  versionDir(version: string): string {
    return join(this.versionsDir, version);
  }

  async versions(): Promise<string[]> {
    try {
      return (await fs.readdir(this.versionsDir)).filter((n) => VERSION_NAME.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Identity (device, inode) of each version directory: a bind mount of it shows the same pair. */
  async versionIdentities(): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const v of await this.versions()) {
      const st = await fs.stat(this.versionDir(v));
      ids.set(identity(st), v);
    }
    return ids;
  }

  /** Removes versions that are not current and not in `inUse`, and leftover temp directories. */
  async gc(inUse: Set<string>): Promise<string[]> {
    const remove = versionsToRemove({ versions: await this.versions(), current: await this.current(), inUse });
    for (const v of remove) await fs.rm(this.versionDir(v), { recursive: true, force: true });
    let entries: string[] = [];
    try {
      entries = await fs.readdir(this.versionsDir);
    } catch {
      // no store yet
    }
    for (const name of entries.filter((n) => n.startsWith('.tmp-'))) {
      await fs.rm(join(this.versionsDir, name), { recursive: true, force: true });
    }
    return remove;
  }

  private async switchTo(version: string): Promise<void> {
    if ((await this.current()) === version) return;
    const tmp = join(this.dir, `.current-${randomBytes(4).toString('hex')}`);
    await fs.symlink(join('versions', version), tmp);
    try {
      await fs.rename(tmp, this.currentLink);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    await fsyncDir(this.dir);
  }

  private async isComplete(dir: string, content: Buffer): Promise<boolean> {
    try {
      const file = join(dir, HELPER_FILE);
      const st = await fs.stat(file);
      return st.uid === process.getuid?.() && (st.mode & 0o7777) === 0o555 && (await fs.readFile(file)).equals(content);
    } catch {
      return false;
    }
  }
}

export function identity(st: { dev: number | bigint; ino: number | bigint }): string {
  return `${st.dev}:${st.ino}`;
}
