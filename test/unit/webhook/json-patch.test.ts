// The compact JSON Patch of the webhook's answers: applying it (with fast-json-patch, an independent implementation
// of RFC 6902) to the original always yields the target, and it stays small for podfence's own changes.
import fc from 'fast-check';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { escapePointer, jsonEqual, jsonPatch } from '../../../src/webhook/json-patch.js';

const apply = (from: unknown, ops: unknown[]) =>
  jsonpatch.applyPatch(structuredClone(from), ops as Operation[], true, false).newDocument as unknown;

describe('jsonPatch', () => {
  test('applying the patch yields the target, for arbitrary JSON documents', () => {
    // (the oracle refuses `__proto__` keys; pods have none)
    const noProto = (v: unknown) => !JSON.stringify(v).includes('"__proto__"');
    const doc = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    const top = fc.dictionary(fc.string(), doc).filter(noProto);
    fc.assert(
      fc.property(top, top, (a, b) => {
        expect(apply(a, jsonPatch(a, b))).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });

  test('arrays edited by insertions, removals and element changes', () => {
    const arr = fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant({ k: 1 }), fc.constant([1])), {
      maxLength: 8,
    });
    fc.assert(
      fc.property(arr, fc.nat(8), fc.array(fc.integer(), { maxLength: 4 }), fc.nat(3), (a, at, ins, del) => {
        const i = Math.min(at, a.length);
        const inserted = [...a.slice(0, i), ...ins, ...a.slice(i)];
        const removed = [...a.slice(0, i), ...a.slice(i + del)];
        const changed = a.map((x, j) => (j === i ? { changed: x } : x));
        for (const b of [inserted, removed, changed]) {
          const doc = { x: a, y: { z: a } };
          const target = { x: b, y: { z: b } };
          expect(apply(doc, jsonPatch(doc, target))).toEqual(target);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('one op per inserted element, per-field ops for same-length arrays, whole replace otherwise', () => {
    expect(jsonPatch({ v: [1, 2] }, { v: [0, 1, 2] })).toEqual([{ op: 'add', path: '/v/0', value: 0 }]);
    expect(jsonPatch({ v: [1, 2] }, { v: [1, 2, 3] })).toEqual([{ op: 'add', path: '/v/2', value: 3 }]);
    expect(jsonPatch({ v: [1, 2, 3, 4] }, { v: [1, 4] })).toEqual([
      { op: 'remove', path: '/v/2' },
      { op: 'remove', path: '/v/1' },
    ]);
    expect(jsonPatch({ v: [{ a: 1 }, { a: 2 }] }, { v: [{ a: 1 }, { a: 3 }] })).toEqual([
      { op: 'replace', path: '/v/1/a', value: 3 },
    ]);
    expect(jsonPatch({ c: ['sh', '-c', 'x'] }, { c: ['/w', '--ro', '/etc', '--', 'sh', '-c', 'y'] })).toEqual([
      { op: 'replace', path: '/c', value: ['/w', '--ro', '/etc', '--', 'sh', '-c', 'y'] },
    ]);
    expect(jsonPatch({ a: 1, 'x/y~': 2 }, { a: 1 })).toEqual(
      [{ op: 'remove', path: '/x~1y~00' }].map((o) => ({
        ...o,
        path: '/' + escapePointer('x/y~'),
      })),
    );
    expect(jsonPatch({ a: { b: 1 } }, { a: { b: 1 } })).toEqual([]);
  });

  test('undefined-valued keys count as absent, as in the serialised document', () => {
    expect(jsonPatch({ a: 1, b: undefined }, { a: 1 })).toEqual([]);
    expect(jsonPatch({ a: 1 }, { a: 1, args: undefined })).toEqual([]);
    expect(jsonPatch({ a: 1, args: ['x'] }, { a: 1, args: undefined })).toEqual([{ op: 'remove', path: '/args' }]);
    expect(jsonEqual({ a: undefined }, {})).toBe(true);
    expect(jsonEqual([1, { a: 2 }], [1, { a: 2 }])).toBe(true);
    expect(jsonEqual([1], [1, 2])).toBe(false);
    expect(jsonEqual({ a: null }, {})).toBe(false);
  });
});
