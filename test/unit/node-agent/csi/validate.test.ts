import {
  checkPublish,
  checkUnpublish,
  Code,
  CsiError,
  EPHEMERAL_KEY,
} from '../../../../src/node-agent/csi/validate.js';

const PODS = '/var/lib/kubelet/pods';
const TARGET = `${PODS}/0b1c/volumes/kubernetes.io~csi/podfence/mount`;
const good = () => ({
  volume_id: 'csi-abc',
  target_path: TARGET,
  readonly: true,
  volume_capability: {
    access_type: 'mount',
    mount: { fs_type: '', mount_flags: [] },
    access_mode: { mode: 'SINGLE_NODE_WRITER' },
  },
  volume_context: {
    [EPHEMERAL_KEY]: 'true',
    'csi.storage.k8s.io/pod.uid': '0b1c',
    'csi.storage.k8s.io/pod.name': 'p',
    'csi.storage.k8s.io/pod.namespace': 'ns',
    'csi.storage.k8s.io/serviceAccount.name': 'default',
  },
});

function rejects(req: Parameters<typeof checkPublish>[0], field: RegExp, code: number = Code.INVALID_ARGUMENT) {
  let err: unknown;
  try {
    checkPublish(req, PODS);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CsiError);
  expect((err as CsiError).code).toBe(code);
  expect((err as CsiError).message).toMatch(field);
}

describe('checkPublish', () => {
  it('accepts the request a kubelet sends for the inline volume', () => {
    expect(checkPublish(good(), PODS)).toEqual({ volumeId: 'csi-abc', targetPath: TARGET, podUid: '0b1c' });
  });

  it('requires volume_id, target_path and a mount capability', () => {
    rejects({ ...good(), volume_id: '' }, /volume_id/);
    rejects({ ...good(), target_path: '' }, /target_path/);
    rejects({ ...good(), volume_capability: null }, /volume_capability/);
    rejects({ ...good(), volume_capability: { access_type: 'block', block: {} } }, /block/);
  });

  it('refuses target paths outside the pods directory or not in normal form', () => {
    for (const t of [
      '/etc/mount',
      `${PODS}`,
      `${PODS}/`,
      `${PODS}/../../../etc`,
      `${PODS}/x/../../etc/passwd`,
      `${PODS}-evil/x/mount`,
      'relative/mount',
      `${PODS}//x/mount`,
    ]) {
      rejects({ ...good(), target_path: t }, /target_path/);
    }
  });

  it('serves only inline ephemeral volumes', () => {
    const ctx = { ...good().volume_context } as Record<string, string>;
    delete ctx[EPHEMERAL_KEY];
    rejects({ ...good(), volume_context: ctx }, /ephemeral/);
    rejects({ ...good(), volume_context: { ...ctx, [EPHEMERAL_KEY]: 'false' } }, /ephemeral/);
    rejects({ ...good(), staging_target_path: '/var/lib/kubelet/plugins/x' }, /staging_target_path/);
  });

  it("refuses the pod author's volumeAttributes, naming them", () => {
    rejects({ ...good(), volume_context: { ...good().volume_context, source: '/etc' } }, /volumeAttributes.*"source"/);
  });

  it('requires readonly', () => {
    rejects({ ...good(), readonly: false }, /readonly/);
    rejects({ ...good(), readonly: undefined }, /readonly/);
  });
});

describe('checkUnpublish', () => {
  it('needs both fields and a target inside the pods directory', () => {
    expect(checkUnpublish({ volume_id: 'v', target_path: TARGET }, PODS)).toEqual({
      volumeId: 'v',
      targetPath: TARGET,
    });
    expect(() => checkUnpublish({ target_path: TARGET }, PODS)).toThrow(/volume_id/);
    expect(() => checkUnpublish({ volume_id: 'v', target_path: '/etc' }, PODS)).toThrow(/target_path/);
  });
});
