import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

// The on-disk side of the node agent: profile files are written atomically (temp file in the same directory,
// fsync, rename over the final name, fsync the directory), so the kubelet never reads a half-written profile and
// a crash leaves either the old state or the new one.

const TMP_PREFIX = '.tmp-';

export async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
}

/** fsync of a directory: makes a rename or unlink in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `${TMP_PREFIX}${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const handle = await fs.open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw err;
  } finally {
    await handle.close().catch(() => {});
  }
  try {
    await fs.rename(tmp, join(dir, name));
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

export async function removeFiles(dir: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  for (const name of names) await fs.rm(join(dir, name), { force: true });
  await fsyncDir(dir);
}

/**
 * Regular files in `dir` with their contents, and leftover temp files of a crashed write (removed by the caller).
 * Anything else in the directory is not ours to judge and is left alone.
 */
export async function readDir(dir: string): Promise<{ files: Map<string, string>; temps: string[] }> {
  const files = new Map<string, string>();
  const temps: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    if (entry.name.startsWith(TMP_PREFIX)) temps.push(entry.name);
    else if (entry.name.endsWith('.json')) files.set(entry.name, await fs.readFile(join(dir, entry.name), 'utf8'));
  }
  return { files, temps };
}
