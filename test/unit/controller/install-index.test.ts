import fc from 'fast-check';
import { tallyViews, type NodeView } from '../../../src/controller/desired-status.js';
import { NodeInstallIndex, type NodeTally } from '../../../src/controller/install-index.js';
import type { NodeReportStatus } from '../../../src/model/objects.js';

const NODES = ['n0', 'n1', 'n2', 'n3'];
const PROFILES = ['web', 'batch', 'db'];
const HASHES = ['0123456789abcdef', 'fedcba9876543210'];
const ABIS = [3, 5, 7];

const report = (abi: number | undefined, files: [string, string][]): NodeReportStatus => ({
  landlockABI: abi,
  installed: files.map(([profile, hash]) => ({ profile, hash, file: `${profile}-${hash}.json` })),
});

const norm = (t: NodeTally) => ({
  ...t,
  missing: [...t.missing].sort(),
  unsupported: [...t.unsupported].sort((a, b) => a.name.localeCompare(b.name)),
});

type Op =
  | { op: 'addNode'; node: string }
  | { op: 'deleteNode'; node: string }
  | { op: 'report'; node: string; report: NodeReportStatus | undefined };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('addNode' as const), node: fc.constantFrom(...NODES) }),
  fc.record({ op: fc.constant('addNode' as const), node: fc.constantFrom(...NODES) }),
  fc.record({ op: fc.constant('deleteNode' as const), node: fc.constantFrom(...NODES) }),
  fc.record({
    op: fc.constant('report' as const),
    node: fc.constantFrom(...NODES),
    report: fc.option(
      fc
        .tuple(
          fc.option(fc.constantFrom(5, 7), { nil: undefined, freq: 8 }),
          fc.uniqueArray(fc.tuple(fc.constantFrom(...PROFILES), fc.constantFrom(...HASHES)), {
            selector: ([p, h]) => `${p}/${h}`,
          }),
        )
        .map(([abi, files]) => report(abi, files)),
      { nil: undefined, freq: 8 },
    ),
  }),
);

describe('NodeInstallIndex', () => {
  test('counts a version on the nodes: installed, missing, below the ABI; reports of unknown nodes do not count', () => {
    const index = new NodeInstallIndex();
    index.addNode('a');
    index.addNode('b');
    index.addNode('c');
    index.setReport('a', report(7, [['web', HASHES[0]!]]));
    index.setReport('b', report(3, [['web', HASHES[0]!]]));
    index.setReport('ghost', report(7, [['web', HASHES[0]!]]));
    const t = norm(index.tally('web', HASHES[0]!, 5));
    expect(t).toEqual({ total: 3, installed: 2, missing: ['c'], unsupported: [{ name: 'b', abi: 3 }] });
    expect(index.tally('web', HASHES[1]!, 5).installed).toBe(0);
    index.deleteNode('b');
    expect(norm(index.tally('web', HASHES[0]!, 5))).toEqual({
      total: 2,
      installed: 1,
      missing: ['c'],
      unsupported: [],
    });
  });

  test('a report change names only the profiles whose files changed; an ABI change names all', () => {
    const index = new NodeInstallIndex();
    index.addNode('a');
    expect(index.setReport('a', report(7, [['web', HASHES[0]!]]))).toEqual({ all: true }); // ABI undefined -> 7
    expect(
      index.setReport(
        'a',
        report(7, [
          ['web', HASHES[0]!],
          ['db', HASHES[0]!],
        ]),
      ),
    ).toEqual({
      all: false,
      profiles: ['db'],
    });
    expect(
      index.setReport(
        'a',
        report(7, [
          ['web', HASHES[1]!],
          ['db', HASHES[0]!],
        ]),
      ),
    ).toEqual({
      all: false,
      profiles: ['web'],
    });
    expect(
      index.setReport(
        'a',
        report(7, [
          ['web', HASHES[1]!],
          ['db', HASHES[0]!],
        ]),
      ),
    ).toEqual({
      all: false,
      profiles: [],
    });
    expect(
      index.setReport(
        'a',
        report(5, [
          ['web', HASHES[1]!],
          ['db', HASHES[0]!],
        ]),
      ),
    ).toEqual({ all: true });
  });

  test('always agrees with counting the node list, and a change it does not name leaves that tally alone', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const index = new NodeInstallIndex();
        const nodes = new Set<string>();
        const reports = new Map<string, NodeReportStatus>();
        const reference = (p: string, h: string, abi: number) => {
          const views: NodeView[] = [...nodes].map((name) => ({ name, report: reports.get(name) }));
          return norm(tallyViews(views, p, h, abi));
        };
        const all = () =>
          PROFILES.flatMap((p) =>
            HASHES.flatMap((h) => ABIS.map((a) => ({ p, key: `${p}/${h}/${a}`, t: reference(p, h, a) }))),
          );
        for (const o of ops) {
          const before = all();
          if (o.op === 'addNode') {
            const isNew = index.addNode(o.node);
            expect(isNew).toBe(!nodes.has(o.node));
            nodes.add(o.node);
          } else if (o.op === 'deleteNode') {
            expect(index.deleteNode(o.node)).toBe(nodes.delete(o.node));
          } else {
            const affected = index.setReport(o.node, o.report);
            if (o.report) reports.set(o.node, o.report);
            else reports.delete(o.node);
            if (!affected.all) {
              const after = new Map(all().map((x) => [x.key, x.t]));
              for (const b of before) {
                if (!affected.profiles.includes(b.p)) expect(after.get(b.key)).toEqual(b.t);
              }
            }
          }
          for (const p of PROFILES)
            for (const h of HASHES)
              for (const a of ABIS) expect(norm(index.tally(p, h, a))).toEqual(reference(p, h, a));
        }
      }),
      { numRuns: 200 },
    );
  });
});
