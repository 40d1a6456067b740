/**
 * `/proc/<pid>/mountinfo` parsing (proc(5)): the kernel's own list of mounts is the only truth about what is
 * mounted where (a bind mount from the same filesystem has the same st_dev as its parent, so stat cannot tell).
 */
export interface MountEntry {
  mountId: number;
  parentId: number;
  /** Path inside the source filesystem that is mounted (for a bind mount: the bound directory). */
  root: string;
  mountPoint: string;
  /** Per-mount options (`ro`, `nosuid`, ...). */
  options: string[];
  fsType: string;
  source: string;
}

/** The kernel escapes space, tab, newline and backslash in paths as `\ooo` octal. */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) continue; // not a line we understand: skip, never guess
    entries.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      root: unescapeMountPath(fields[3]!),
      mountPoint: unescapeMountPath(fields[4]!),
      options: fields[5]!.split(','),
      fsType: fields[sep + 1]!,
      source: unescapeMountPath(fields[sep + 2]!),
    });
  }
  return entries;
}

/** Mounts stacked on `path`, topmost last (mountinfo lists mounts in the order they were made). */
export function mountsAt(entries: MountEntry[], path: string): MountEntry[] {
  return entries.filter((e) => e.mountPoint === path);
}

/** Mount points strictly below `dir`. */
export function mountPointsUnder(entries: MountEntry[], dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return [...new Set(entries.map((e) => e.mountPoint).filter((p) => p.startsWith(prefix)))];
}
