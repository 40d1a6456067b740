import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDir, removeFiles, writeFileAtomic } from '../../../src/node-agent/files.js';
import { planSync, type DesiredFile } from '../../../src/node-agent/plan.js';
import { parseProbeOutput } from '../../../src/node-agent/probe.js';

const H1 = '0123456789abcdef';
const H2 = '1111111111111111';
const H3 = '2222222222222222';
const f = (name: string, h: string) => `${name}-${h}.json`;

describe('planSync', () => {
  const desired = new Map<string, DesiredFile>([[f('web', H2), { profile: 'web', hash: H2, json: '{"v":2}' }]]);
  const base = {
    desired,
    inUse: new Set<string>(),
    retired: new Map<string, number>(),
    now: 1_000_000,
    graceMs: 30_000,
  };

  it('writes missing and differing files, leaves identical ones', () => {
    expect(planSync({ ...base, present: new Map() }).write).toEqual([{ file: f('web', H2), json: '{"v":2}' }]);
    expect(planSync({ ...base, present: new Map([[f('web', H2), 'corrupt']]) }).write).toHaveLength(1);
    const same = planSync({ ...base, present: new Map([[f('web', H2), '{"v":2}']]) });
    expect(same.write).toEqual([]);
    expect(same.installed).toEqual([{ profile: 'web', hash: H2, file: f('web', H2) }]);
  });

  it('keeps an old version while a pod on the node uses it, and reports it', () => {
    const p = planSync({
      ...base,
      inUse: new Set([f('web', H1)]),
      present: new Map([
        [f('web', H1), '{"v":1}'],
        [f('web', H2), '{"v":2}'],
      ]),
    });
    expect(p.remove).toEqual([]);
    expect(p.installed.map((i) => i.hash)).toEqual([H1, H2]);
  });

  it('retires an unused old version first (unreported), then removes it after the grace', () => {
    const present = new Map([
      [f('web', H1), '{"v":1}'],
      [f('web', H2), '{"v":2}'],
    ]);
    const first = planSync({ ...base, present });
    expect(first.remove).toEqual([]);
    expect(first.installed.map((i) => i.hash)).toEqual([H2]);
    expect(first.retired.get(f('web', H1))).toBe(base.now);
    expect(first.recheckInMs).toBe(30_000);
    const later = planSync({ ...base, present, retired: first.retired, now: base.now + 30_000 });
    expect(later.remove).toEqual([f('web', H1)]);
    expect(later.retired.size).toBe(0);
  });

  it('un-retires a file that a pod starts using again', () => {
    const present = new Map([[f('web', H1), '{"v":1}']]);
    const p = planSync({
      ...base,
      present,
      inUse: new Set([f('web', H1)]),
      retired: new Map([[f('web', H1), 0]]),
    });
    expect(p.remove).toEqual([]);
    expect(p.retired.size).toBe(0);
  });

  it('removes files of deleted profiles with no pods, with zero grace at once', () => {
    const p = planSync({ ...base, graceMs: 0, present: new Map([[f('gone', H3), '{}']]) });
    expect(p.remove).toEqual([f('gone', H3)]);
  });

  it('leaves files that are not podfence-named alone', () => {
    const p = planSync({ ...base, graceMs: 0, present: new Map([['notes.json', '{}']]) });
    expect(p.remove).toEqual([]);
    expect(p.installed.map((i) => i.file)).toEqual([f('web', H2)]);
  });

  it('flags in-use files that are nowhere', () => {
    expect(planSync({ ...base, present: new Map(), inUse: new Set([f('web', H1)]) }).missingInUse).toEqual([
      f('web', H1),
    ]);
  });
});

describe('atomic files', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'podfence-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes exact bytes with mode 0644 and leaves no temp file', async () => {
    await writeFileAtomic(dir, 'a.json', '{"x":1}\n');
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"x":1}\n');
    expect(statSync(join(dir, 'a.json')).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('replaces an existing file in one step', async () => {
    writeFileSync(join(dir, 'a.json'), 'old');
    await writeFileAtomic(dir, 'a.json', 'new');
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('new');
  });

  it('reads json files and finds temp leftovers of a crash', async () => {
    writeFileSync(join(dir, 'a.json'), '1');
    writeFileSync(join(dir, '.tmp-a.json.1.abcd'), 'half');
    writeFileSync(join(dir, 'README'), 'x');
    const { files, temps } = await readDir(dir);
    expect([...files.entries()]).toEqual([['a.json', '1']]);
    expect(temps).toEqual(['.tmp-a.json.1.abcd']);
    await removeFiles(dir, temps);
    expect(readdirSync(dir).sort()).toEqual(['README', 'a.json']);
  });
});

describe('parseProbeOutput', () => {
  it('reads landlock_abi', () => {
    expect(parseProbeOutput('{"landlock_abi":7,"kernel":"6.18"}\n').landlockABI).toBe(7);
    expect(parseProbeOutput('{"landlock_abi":0}').landlockABI).toBe(0);
  });
  it('rejects output without a valid ABI', () => {
    expect(() => parseProbeOutput('{"landlock_abi":"7"}')).toThrow(/landlock_abi/);
    expect(() => parseProbeOutput('not json')).toThrow();
  });
});
