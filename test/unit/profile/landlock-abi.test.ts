import { requiredLandlockAbi } from '../../../src/profile/landlock-abi.js';

describe('requiredLandlockAbi', () => {
  it('follows the features an enforce profile uses', () => {
    expect(requiredLandlockAbi({ mode: 'enforce', landlock: { mode: 'enforce', readOnly: ['/etc'] } })).toBe(1);
    expect(requiredLandlockAbi({ landlock: { readOnly: [], baseline: true, tcp: { bind: [80] } } })).toBe(4);
    expect(requiredLandlockAbi({ landlock: { tcp: { connect: [] }, scope: ['signal'] } })).toBe(6);
  });

  it('is 0 for audit mode, best-effort Landlock, or no Landlock', () => {
    expect(requiredLandlockAbi({ mode: 'audit', landlock: { scope: ['signal'] } })).toBe(0);
    expect(requiredLandlockAbi({ landlock: { mode: 'best-effort', tcp: { bind: [1] } } })).toBe(0);
    expect(requiredLandlockAbi({ landlock: null })).toBe(0);
    expect(requiredLandlockAbi({ landlock: { baseline: false } })).toBe(0);
  });
});
