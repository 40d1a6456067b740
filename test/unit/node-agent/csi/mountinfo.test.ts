import { mountPointsUnder, mountsAt, parseMountInfo } from '../../../../src/node-agent/csi/mountinfo.js';

const TEXT = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '40 22 8:1 /var/lib/kubelet/plugins/podfence.dev/helper/versions/0123456789abcdef /var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/podfence/mount ro,nosuid,nodev,relatime shared:1 - ext4 /dev/sda1 rw',
  '41 22 0:50 / /var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/with\\040space rw - tmpfs tmpfs rw',
  '42 41 0:51 / /var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/with\\040space rw - tmpfs tmpfs rw',
  'garbage line',
  '',
].join('\n');

describe('parseMountInfo', () => {
  const m = parseMountInfo(TEXT);

  it('reads every well-formed line, with optional fields and octal escapes', () => {
    expect(m).toHaveLength(4);
    expect(m[1]).toMatchObject({
      mountId: 40,
      parentId: 22,
      root: '/var/lib/kubelet/plugins/podfence.dev/helper/versions/0123456789abcdef',
      options: ['ro', 'nosuid', 'nodev', 'relatime'],
      fsType: 'ext4',
      source: '/dev/sda1',
    });
    expect(m[2]!.mountPoint).toBe('/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/with space');
  });

  it('finds stacked mounts at a path and mount points below a directory', () => {
    expect(mountsAt(m, '/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/with space')).toHaveLength(2);
    expect(mountsAt(m, '/var/lib/kubelet/pods/u3')).toHaveLength(0);
    expect(mountPointsUnder(m, '/var/lib/kubelet/pods').sort()).toEqual([
      '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/podfence/mount',
      '/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/with space',
    ]);
    expect(mountPointsUnder(m, '/var/lib/kubelet/pod')).toEqual([]);
  });
});
