import { join } from 'node:path';
import { CSI_DRIVER_NAME } from '../../common/constants.js';

/** The CSI driver name: pods' `csi.driver`, the CSIDriver object and the kubelet registration all use it. */
export const DRIVER_NAME = CSI_DRIVER_NAME;
/** CSI versions the kubelet may speak to us (it requires a 1.x entry). */
export const SUPPORTED_CSI_VERSIONS = ['1.0.0'];
/** The file every published volume shows: the Landlock wrapper. */
export const HELPER_FILE = 'podfence-init';

/** Where, under the kubelet's root, the plugin's sockets and the helper store live. */
export function csiPaths(kubeletRoot: string) {
  const pluginDir = join(kubeletRoot, 'plugins', DRIVER_NAME);
  return {
    /** The kubelet mounts pod volumes below this; every target path must be inside it. */
    podsDir: join(kubeletRoot, 'pods'),
    /** Watched by the kubelet's plugin watcher (inotify); a socket here asks for registration. */
    registrationSocket: join(kubeletRoot, 'plugins_registry', `${DRIVER_NAME}-reg.sock`),
    pluginDir,
    csiSocket: join(pluginDir, 'csi.sock'),
    /** Root-owned versioned copies of the helper (see store.ts). */
    storeDir: join(pluginDir, 'helper'),
  };
}

export type CsiPaths = ReturnType<typeof csiPaths>;
