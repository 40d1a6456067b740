import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { mountPointsUnder, mountsAt } from './mountinfo.js';
import type { Mounter } from './mounter.js';
import { identity, type HelperStore } from './store.js';
import {
  checkPublish,
  checkUnpublish,
  Code,
  CsiError,
  type PublishRequest,
  type UnpublishRequest,
} from './validate.js';

export interface NodeServiceOptions {
  nodeName: string;
  podsDir: string;
  store: HelperStore;
  mounter: Mounter;
}

/**
 * NodePublishVolume / NodeUnpublishVolume for the helper volume: a read-only bind mount of the current helper
 * version at the target path. Both are idempotent (the kubelet retries, and restarts of either side replay calls)
 * and serialized per target path; publish and garbage collection of versions are serialized with each other so
 * a version is never removed between being chosen and being mounted.
 */
export class NodeService {
  private readonly targetLocks = new Map<string, Promise<unknown>>();
  private storeLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: NodeServiceOptions) {}

  async publish(req: PublishRequest): Promise<{ version: string; already: boolean }> {
    const { targetPath } = checkPublish(req, this.o.podsDir);
    return this.withTarget(targetPath, async () => {
      await this.checkParent(targetPath);
      const existing = await this.publishedVersion(targetPath);
      if (existing) return { version: existing, already: true };
      return this.withStore(async () => {
        const version = await this.o.store.current();
        if (!version) throw new CsiError(Code.UNAVAILABLE, 'the helper store has no current version yet');
        await this.makeTarget(targetPath);
        try {
          await this.o.mounter.bindReadOnly(this.o.store.versionDir(version), targetPath);
        } catch (err) {
          // Ephemeral volumes get no retry guarantee: free what we made before failing.
          await fs.rmdir(targetPath).catch(() => undefined);
          throw new CsiError(Code.INTERNAL, `mounting the helper at ${targetPath}: ${(err as Error).message}`);
        }
        return { version, already: false };
      });
    });
  }

  async unpublish(req: UnpublishRequest): Promise<{ unmounted: number }> {
    const { targetPath } = checkUnpublish(req, this.o.podsDir);
    return this.withTarget(targetPath, async () => {
      let unmounted = 0;
      // Stacked mounts (a crash between bind and remount, a replayed publish) come off one by one.
      while (mountsAt(await this.o.mounter.mounts(), targetPath).length > 0) {
        if (unmounted >= 16) throw new CsiError(Code.INTERNAL, `${targetPath} stays mounted after 16 unmounts`);
        try {
          await this.o.mounter.unmount(targetPath);
        } catch (err) {
          throw new CsiError(Code.INTERNAL, `unmounting ${targetPath}: ${(err as Error).message}`);
        }
        unmounted++;
      }
      try {
        await fs.rmdir(targetPath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR') await fs.unlink(targetPath);
        else if (code !== 'ENOENT') {
          throw new CsiError(Code.INTERNAL, `removing ${targetPath}: ${(err as Error).message}`);
        }
      }
      return { unmounted };
    });
  }

  /** Every mount below the pods directory that shows one of our versions: target path -> version. */
  async published(): Promise<Map<string, string>> {
    const ids = await this.o.store.versionIdentities();
    const out = new Map<string, string>();
    for (const mp of mountPointsUnder(await this.o.mounter.mounts(), this.o.podsDir)) {
      try {
        const v = ids.get(identity(await fs.stat(mp)));
        if (v) out.set(mp, v);
      } catch {
        // a mount point that vanished meanwhile is not in use
      }
    }
    return out;
  }

  /** Versions some volume still shows: garbage collection keeps them. */
  async versionsInUse(): Promise<Set<string>> {
    return new Set((await this.published()).values());
  }

  /** Installs `binary` as the current version and removes versions no volume shows. */
  async installAndCollect(binary: string): Promise<{ version: string; removed: string[] }> {
    return this.withStore(async () => {
      const version = await this.o.store.install(binary);
      const removed = await this.o.store.gc(await this.versionsInUse());
      return { version, removed };
    });
  }

  async collect(): Promise<string[]> {
    return this.withStore(async () => this.o.store.gc(await this.versionsInUse()));
  }

  /** The version mounted at `target` if it is a read-only mount of one of ours; error if it is something else. */
  private async publishedVersion(target: string): Promise<string | undefined> {
    const stack = mountsAt(await this.o.mounter.mounts(), target);
    const top = stack[stack.length - 1];
    if (!top) return undefined;
    const ids = await this.o.store.versionIdentities();
    const v = ids.get(identity(await fs.stat(target)));
    if (!v || !top.options.includes('ro')) {
      throw new CsiError(Code.ALREADY_EXISTS, `target_path ${target} is already a mount point of something else`);
    }
    return v;
  }

  /** The kubelet made the parent; a parent that resolves elsewhere (a symlink on the way) is refused. */
  private async checkParent(target: string): Promise<void> {
    const parent = dirname(target);
    let real: string;
    try {
      real = await fs.realpath(parent);
    } catch {
      throw new CsiError(Code.NOT_FOUND, `the parent directory of target_path ${target} does not exist`);
    }
    if (real !== parent) {
      throw new CsiError(Code.INVALID_ARGUMENT, `target_path ${target}: its parent resolves to ${real}`);
    }
  }

  private async makeTarget(target: string): Promise<void> {
    try {
      await fs.mkdir(target, { mode: 0o750 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = await fs.lstat(target);
    if (!st.isDirectory()) {
      throw new CsiError(Code.INVALID_ARGUMENT, `target_path ${target} exists and is not a directory`);
    }
  }

  private withTarget<T>(target: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.targetLocks.get(target) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.targetLocks.set(target, tail);
    void tail.then(() => {
      if (this.targetLocks.get(target) === tail) this.targetLocks.delete(target);
    });
    return next;
  }

  private withStore<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.storeLock.then(fn, fn);
    this.storeLock = next.catch(() => undefined);
    return next;
  }
}
