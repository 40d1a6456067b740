import fc from 'fast-check';
import { NodeInstallIndex } from '../../../src/controller/install-index.js';
import { Interner } from '../../../src/controller/interner.js';
import { desiredSeccompLabels } from '../../../src/controller/node-labels.js';
import { slimReport } from '../../../src/controller/slim-report.js';
import type { NodeReportObject } from '../../../src/model/objects.js';

const HASHES = ['0123456789abcdef', 'fedcba9876543210', 'not-a-hash'];
const entry = fc.record({ profile: fc.constantFrom('web', 'db', 'batch'), hash: fc.constantFrom(...HASHES) });
const reportArb = fc.record({
  name: fc.constantFrom('n0', 'n1'),
  abi: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
  installed: fc.option(fc.array(entry, { maxLength: 6 }), { nil: undefined }),
  csi: fc.option(fc.record({ ready: fc.boolean(), message: fc.string() }), { nil: undefined }),
});
type Gen = typeof reportArb extends fc.Arbitrary<infer T> ? T : never;
const toReport = (r: Gen): NodeReportObject => ({
  apiVersion: 'podfence.dev/v1alpha1',
  kind: 'SandboxNodeReport',
  metadata: { name: r.name, uid: 'u1', resourceVersion: '9', managedFields: [{ manager: 'agent' }] },
  status: {
    landlockABI: r.abi,
    kernel: '6.18.0',
    agentVersion: '1.2.3',
    updatedAt: '2026-12-01T00:00:00Z',
    installed: r.installed?.map((f) => ({ ...f, file: `${f.profile}-${f.hash}.json` })),
    csi: r.csi && { ...r.csi, helperVersion: 'abc' },
  },
});

describe('slimReport', () => {
  const requirements = new Map([
    ['web', { hash: HASHES[0]!, requiredAbi: 4 }],
    ['db', { hash: HASHES[1]!, requiredAbi: 1 }],
  ]);

  it('keeps every field the controller reads: the same node labels and the same install counts', () => {
    fc.assert(
      fc.property(fc.array(reportArb, { minLength: 1, maxLength: 6 }), (reports) => {
        const full = new NodeInstallIndex();
        const slim = new NodeInstallIndex();
        const intern = new Interner();
        for (const n of ['n0', 'n1']) {
          full.addNode(n);
          slim.addNode(n);
        }
        for (const r of reports.map(toReport)) {
          const s = slimReport(r, intern);
          expect(s.metadata).toEqual({ name: r.metadata!.name, uid: 'u1', resourceVersion: '9' });
          expect(desiredSeccompLabels(s.status, requirements)).toEqual(desiredSeccompLabels(r.status, requirements));
          expect(slim.setReport(s.metadata!.name!, s.status)).toEqual(full.setReport(r.metadata!.name!, r.status));
          for (const [p, { hash, requiredAbi }] of requirements) {
            expect(slim.tally(p, hash, requiredAbi)).toEqual(full.tally(p, hash, requiredAbi));
          }
        }
      }),
    );
  });

  it('drops what the controller never reads (kernel, agent version, timestamps, messages, managedFields)', () => {
    const s = slimReport(
      toReport({
        name: 'n0',
        abi: 7,
        installed: [{ profile: 'web', hash: HASHES[0]! }],
        csi: { ready: true, message: 'm' },
      }),
      new Interner(),
    );
    expect(s.status).toEqual({
      landlockABI: 7,
      installed: [{ profile: 'web', hash: HASHES[0], file: `web-${HASHES[0]}.json` }],
      csi: { ready: true },
    });
    expect(JSON.stringify(s)).not.toMatch(/kernel|agentVersion|updatedAt|helperVersion|managedFields/);
  });
});

describe('Interner', () => {
  it('gives back an equal string, and starts over past its bound instead of growing', () => {
    const intern = new Interner(3);
    const a = intern.get(['p', '1'].join('-'));
    expect(intern.get('p-1')).toBe(a);
    expect(intern.size).toBe(1);
    for (const s of ['x', 'y', 'z', 'w']) intern.get(s);
    expect(intern.size).toBeLessThanOrEqual(3);
  });
});
