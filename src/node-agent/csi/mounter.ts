import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { parseMountInfo, type MountEntry } from './mountinfo.js';

const run = promisify(execFile);

/**
 * Mount operations. Node.js has no mount(2), so the plugin runs the `mount`/`umount` programs (util-linux on a
 * host, busybox in the alpine image; both take these arguments). A read-only bind mount is two steps in every
 * kernel API (bind, then remount the bind read-only); the target is not visible to any container between them
 * (the kubelet starts containers only after NodePublishVolume returned).
 */
export interface Mounter {
  bindReadOnly(source: string, target: string): Promise<void>;
  unmount(target: string): Promise<void>;
  mounts(): Promise<MountEntry[]>;
}

export interface CommandMounterOptions {
  mountCommand?: string;
  umountCommand?: string;
  mountInfoPath?: string;
}

export class CommandMounter implements Mounter {
  private readonly mount: string;
  private readonly umount: string;
  private readonly mountInfoPath: string;

  constructor(o: CommandMounterOptions = {}) {
    this.mount = o.mountCommand ?? 'mount';
    this.umount = o.umountCommand ?? 'umount';
    this.mountInfoPath = o.mountInfoPath ?? '/proc/self/mountinfo';
  }

  async bindReadOnly(source: string, target: string): Promise<void> {
    await this.exec(this.mount, ['--bind', source, target]);
    try {
      await this.exec(this.mount, ['-o', 'remount,bind,ro,nosuid,nodev', target]);
    } catch (err) {
      // Never leave a writable bind behind.
      await this.exec(this.umount, [target]).catch(() => undefined);
      throw err;
    }
  }

  async unmount(target: string): Promise<void> {
    await this.exec(this.umount, [target]);
  }

  async mounts(): Promise<MountEntry[]> {
    return parseMountInfo(await fs.readFile(this.mountInfoPath, 'utf8'));
  }

  private async exec(cmd: string, args: string[]): Promise<void> {
    try {
      await run(cmd, args, { timeout: 30_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
    }
  }
}
