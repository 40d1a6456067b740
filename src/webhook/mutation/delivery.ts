import type { V1Container, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import {
  CSI_DRIVER_NAME,
  INIT_CONTAINER_NAME,
  INIT_DIR,
  INIT_VOLUME_NAME,
  SERVICE_ACCOUNT_TOKEN_DIR,
} from '../../common/constants.js';
import { INIT_INSTALL_COMMAND, INIT_VOLUME_SIZE } from '../names.js';
import type { ProfileInfo, WebhookPolicy } from '../types.js';
import { canonical } from './mount-paths.js';

// Step: how the wrapper binary reaches the pod: a read-only inline volume of podfence's CSI driver (csi mode: the
// node agent bind-mounts a root-owned copy, nothing in the pod can write it, no init container), or an emptyDir at
// /podfence filled by an init container (init mode); either is mounted read-only into every wrapped container. Also podfence's own pieces of an earlier mutation, recognised here
// and taken off first so that the mutation rebuilds them (which keeps re-invocation a no-op), and the names
// a pod may not take from podfence.

/** podfence's init container (by name and exact command: a look-alike is the pod's own, and refused). */
export function isDeliveryInit(c: V1Container): boolean {
  return c.name === INIT_CONTAINER_NAME && JSON.stringify(c.command) === JSON.stringify(INIT_INSTALL_COMMAND);
}

export function isDeliveryVolume(v: V1Volume): boolean {
  if (v.name !== INIT_VOLUME_NAME) return false;
  if (v.emptyDir) return true;
  // Exactly ours: a pod's own csi volume under this name (another driver, attributes, writable) stays the pod's,
  // and is refused as a reserved name.
  return JSON.stringify(v) === JSON.stringify(deliveryCsiVolume());
}

/** The csi-mode volume: podfence.dev, read-only, no attributes (the driver refuses any). */
export function deliveryCsiVolume(): V1Volume {
  return { name: INIT_VOLUME_NAME, csi: { driver: CSI_DRIVER_NAME, readOnly: true } };
}

export function isDeliveryMount(m: V1VolumeMount): boolean {
  return m.name === INIT_VOLUME_NAME;
}

/** The mount a wrapped container gets. */
export function deliveryMount(): V1VolumeMount {
  return { name: INIT_VOLUME_NAME, mountPath: INIT_DIR, readOnly: true };
}

export interface PodOwnPieces {
  /** The pod's init containers and volumes without podfence's. */
  initContainers: V1Container[];
  volumes: V1Volume[];
  /** Reserved names the pod uses for its own things. */
  denials: string[];
}

/** The pod's own init containers and volumes, podfence's taken off. */
export function takeOffDelivery(spec: V1PodSpec): PodOwnPieces {
  const denials: string[] = [];
  const foreignInit = (spec.initContainers ?? []).find((c) => c.name === INIT_CONTAINER_NAME && !isDeliveryInit(c));
  if (foreignInit) denials.push(`init container name "${INIT_CONTAINER_NAME}" is reserved for podfence`);
  const initContainers = (spec.initContainers ?? []).filter((c) => !isDeliveryInit(c));
  const volumes = (spec.volumes ?? []).filter((v) => !isDeliveryVolume(v));
  if (volumes.some((v) => v.name === INIT_VOLUME_NAME)) {
    denials.push(`volume name "${INIT_VOLUME_NAME}" is reserved for podfence`);
  }
  return { initContainers, volumes, denials };
}

/** Denials for a container mounting one of its volumes over (or above) podfence's directory. */
export function mountsOverDelivery(c: Pick<V1Container, 'volumeMounts'>, where: string): string[] {
  return (c.volumeMounts ?? [])
    .filter((m) => m.name !== INIT_VOLUME_NAME && isUnder(m.mountPath, INIT_DIR))
    .map((m) => `${where} mounts volume "${m.name}" at ${m.mountPath}, over podfence's ${INIT_DIR}`);
}

/** Denials for a container that is not wrapped (ephemeral) mounting podfence's own volume other than read-only. */
export function deliveryMountsOf(c: Pick<V1Container, 'volumeMounts'>, field: string, where: string): string[] {
  return (c.volumeMounts ?? []).flatMap((m, i) =>
    m.name === INIT_VOLUME_NAME && m.readOnly !== true
      ? [
          `${field}.volumeMounts[${i}].name (${where}): volume "${INIT_VOLUME_NAME}" is podfence's own: mount it ` +
            `readOnly or not at all`,
        ]
      : [],
  );
}

/**
 * The init container that installs the wrapper, running as the pod's profile allows. Its own volume also sits,
 * read-only, where the API token would go: the installer needs no token, and without a mount there the
 * apiserver's ServiceAccount plugin, run again after this webhook added the container, would mount one and so
 * call the webhook a second time for every pod (reinvocationPolicy IfNeeded; docs/webhook.md).
 */
export function deliveryInit(podProfile: ProfileInfo, policy: WebhookPolicy): V1Container {
  return {
    name: INIT_CONTAINER_NAME,
    image: policy.initImage,
    command: [...INIT_INSTALL_COMMAND],
    ...(policy.initImagePullPolicy ? { imagePullPolicy: policy.initImagePullPolicy } : {}),
    volumeMounts: [
      { name: INIT_VOLUME_NAME, mountPath: INIT_DIR },
      { name: INIT_VOLUME_NAME, mountPath: SERVICE_ACCOUNT_TOKEN_DIR, readOnly: true },
    ],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
    securityContext: {
      ...podProfile.containerSecurityContext,
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      ...(podProfile.podSecurityContext.runAsUser !== undefined
        ? { runAsUser: podProfile.podSecurityContext.runAsUser }
        : {}),
      ...(podProfile.podSecurityContext.runAsGroup !== undefined
        ? { runAsGroup: podProfile.podSecurityContext.runAsGroup }
        : {}),
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'Localhost', localhostProfile: podProfile.seccomp.localhostProfile },
    },
  };
}

export function deliveryVolume(): V1Volume {
  return { name: INIT_VOLUME_NAME, emptyDir: { medium: 'Memory', sizeLimit: INIT_VOLUME_SIZE } };
}

/** The pod's init container and volume lists after delivery (undefined: leave the field out). */
export interface DeliveredLists {
  initContainers: V1Container[] | undefined;
  volumes: V1Volume[] | undefined;
}

/**
 * The lists with the delivery pieces when any container is wrapped; otherwise the pod's own lists, left as they
 * were unless podfence's pieces were in them (an audit-mode re-invocation takes them off).
 */
export function deliver(
  original: V1PodSpec,
  own: { initContainers: V1Container[]; volumes: V1Volume[] },
  anyWrapped: boolean,
  podProfile: ProfileInfo,
  policy: WebhookPolicy,
): DeliveredLists {
  // An empty list the pod wrote stays; a list that held only podfence's pieces goes.
  const keep = <T>(mine: T[], theirs: T[] | undefined) =>
    mine.length ? mine : theirs?.length === 0 ? theirs : undefined;
  if (anyWrapped && policy.helperDelivery === 'csi') {
    return {
      initContainers: keep(own.initContainers, original.initContainers),
      volumes: [...own.volumes, deliveryCsiVolume()],
    };
  }
  if (anyWrapped) {
    return {
      initContainers: [deliveryInit(podProfile, policy), ...own.initContainers],
      volumes: [...own.volumes, deliveryVolume()],
    };
  }
  return {
    initContainers: keep(own.initContainers, original.initContainers),
    volumes: keep(own.volumes, original.volumes),
  };
}

/** Overlap on canonical paths ("//podfence", "/./podfence/x" and "/podfence/" are all /podfence). */
function isUnder(path: string, dir: string): boolean {
  const p = canonical(path);
  return p === dir || p.startsWith(dir + '/') || dir.startsWith(p === '/' ? '/' : p + '/');
}
