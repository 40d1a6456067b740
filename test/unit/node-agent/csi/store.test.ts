import {
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HelperStore } from '../../../../src/node-agent/csi/store.js';
import { versionsToRemove } from '../../../../src/node-agent/csi/store-plan.js';

describe('versionsToRemove', () => {
  it('keeps the current version and those in use, removes the rest', () => {
    expect(versionsToRemove({ versions: ['a', 'b', 'c', 'd'], current: 'b', inUse: new Set(['c']) })).toEqual([
      'a',
      'd',
    ]);
    expect(versionsToRemove({ versions: ['a'], current: undefined, inUse: new Set() })).toEqual(['a']);
  });
});

describe('HelperStore (files in a temp dir)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pf-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const bin = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('installs a version read-only and points current at it; same content twice is one version', async () => {
    const store = new HelperStore(join(dir, 'store'));
    expect(await store.current()).toBeUndefined();
    const v1 = await store.install(bin('a', 'helper v1'));
    expect(v1).toMatch(/^[0-9a-f]{16}$/);
    expect(await store.current()).toBe(v1);
    expect(readlinkSync(store.currentLink)).toBe(`versions/${v1}`);
    const file = join(store.versionDir(v1), 'podfence-init');
    expect(readFileSync(file, 'utf8')).toBe('helper v1');
    expect(statSync(file).mode & 0o7777).toBe(0o555);
    expect(statSync(store.versionDir(v1)).mode & 0o7777).toBe(0o755);
    expect(await store.install(bin('a2', 'helper v1'))).toBe(v1);
    expect(await store.versions()).toEqual([v1]);
  });

  it('switches current to a new version and collects old ones unless in use', async () => {
    const store = new HelperStore(join(dir, 'store'));
    const v1 = await store.install(bin('a', 'helper v1'));
    const v2 = await store.install(bin('b', 'helper v2'));
    expect(await store.current()).toBe(v2);
    expect(await store.gc(new Set([v1]))).toEqual([]);
    expect((await store.versions()).sort()).toEqual([v1, v2].sort());
    expect(await store.gc(new Set())).toEqual([v1]);
    expect(await store.versions()).toEqual([v2]);
  });

  it('repairs a damaged copy and removes leftover temp directories', async () => {
    const store = new HelperStore(join(dir, 'store'));
    const v1 = await store.install(bin('a', 'helper v1'));
    rmSync(join(store.versionDir(v1), 'podfence-init'));
    writeFileSync(join(store.versionDir(v1), 'podfence-init'), 'tampered', { mode: 0o755 });
    mkdirSync(join(store.versionsDir, '.tmp-leftover'));
    expect(await store.install(bin('a', 'helper v1'))).toBe(v1);
    expect(readFileSync(join(store.versionDir(v1), 'podfence-init'), 'utf8')).toBe('helper v1');
    await store.gc(new Set());
    expect(readdirSync(store.versionsDir)).toEqual([v1]);
  });
});
