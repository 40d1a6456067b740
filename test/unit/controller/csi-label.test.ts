import { NODE_CSI_READY_LABEL } from '../../../src/common/constants.js';
import { desiredSeccompLabels, seccompLabelPatch } from '../../../src/controller/node-labels.js';

describe('the CSI-ready node label', () => {
  it('follows the reported readiness of the CSI driver', () => {
    expect(desiredSeccompLabels({ csi: { ready: true } }, new Map()).has(NODE_CSI_READY_LABEL)).toBe(true);
    expect(desiredSeccompLabels({ csi: { ready: false, message: 'x' } }, new Map()).has(NODE_CSI_READY_LABEL)).toBe(
      false,
    );
    expect(desiredSeccompLabels({}, new Map()).has(NODE_CSI_READY_LABEL)).toBe(false);
  });

  it('is added, kept and removed like the seccomp labels, other labels untouched', () => {
    const ready = new Set([NODE_CSI_READY_LABEL]);
    expect(seccompLabelPatch({ a: 'b' }, ready)).toEqual({ [NODE_CSI_READY_LABEL]: 'true' });
    expect(seccompLabelPatch({ [NODE_CSI_READY_LABEL]: 'true' }, ready)).toBeUndefined();
    expect(seccompLabelPatch({ a: 'b', [NODE_CSI_READY_LABEL]: 'true' }, new Set())).toEqual({
      [NODE_CSI_READY_LABEL]: null,
    });
  });
});
