import { findCondition, profileReady, setCondition } from '../../../src/model/conditions.js';
import type { Condition } from '../../../src/model/objects.js';

const t0 = new Date('2026-12-01T10:00:00.123Z');
const t1 = new Date('2026-12-01T11:00:00Z');

describe('conditions', () => {
  const other: Condition = { type: 'Other', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' };

  test('set appends a new type with the transition time (no fraction)', () => {
    const out = setCondition([other], { type: 'Ready', status: 'False', reason: 'Installing', message: 'm' }, t0);
    expect(out).toEqual([
      other,
      {
        type: 'Ready',
        status: 'False',
        reason: 'Installing',
        message: 'm',
        lastTransitionTime: '2026-12-01T10:00:00Z',
      },
    ]);
    expect(findCondition(out, 'Ready')?.reason).toBe('Installing');
    expect(findCondition(out, 'Missing')).toBeUndefined();
    expect(findCondition(undefined, 'Ready')).toBeUndefined();
  });

  test('set replaces in place; the time moves only when the status does', () => {
    const first = setCondition([other], { type: 'Ready', status: 'False', reason: 'A', message: '' }, t0);
    const same = setCondition(first, { type: 'Ready', status: 'False', reason: 'B', message: 'x' }, t1);
    expect(same[1]).toMatchObject({ reason: 'B', message: 'x', lastTransitionTime: '2026-12-01T10:00:00Z' });
    const flipped = setCondition([first[1]!, other], { type: 'Ready', status: 'True', reason: 'C', message: '' }, t1);
    expect(flipped.map((c) => c.type)).toEqual(['Ready', 'Other']);
    expect(flipped[0]!.lastTransitionTime).toBe('2026-12-01T11:00:00Z');
    expect(first).toHaveLength(2); // inputs unchanged
  });

  test('profileReady: Ready True for this generation and this compiled hash', () => {
    const obj = (observedGeneration: number, hash: string, status = 'True' as Condition['status']) => ({
      metadata: { name: 'web', generation: 2 },
      status: { hash, conditions: [{ type: 'Ready', status, observedGeneration }] },
    });
    expect(profileReady(obj(2, 'h'), 'h')).toBe(true);
    expect(profileReady(obj(1, 'h'), 'h')).toBe(false);
    expect(profileReady(obj(2, 'old'), 'h')).toBe(false);
    expect(profileReady(obj(2, 'h', 'False'), 'h')).toBe(false);
    expect(profileReady({ metadata: { name: 'web' } }, 'h')).toBe(false);
  });
});
