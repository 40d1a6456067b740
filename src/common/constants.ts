// Names shared by every part of podfence: the CRDs, labels, annotations and on-node/in-pod paths.

export const GROUP = 'podfence.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const PROFILE_KIND = 'SandboxProfile';
export const PROFILE_PLURAL = 'sandboxprofiles';

/** Per-node report written by the node agent (one object per node, named after the node). */
export const NODE_REPORT_KIND = 'SandboxNodeReport';
export const NODE_REPORT_PLURAL = 'sandboxnodereports';

/**
 * What the sandbox-required ValidatingAdmissionPolicy checks pods against, written by the controller (one
 * cluster-scoped object; src/model/admission-params.ts). A custom resource rather than a ConfigMap: the apiserver stops
 * its shared ConfigMap informer for policy parameters when the last policy using it goes away and never restarts
 * it, so after an uninstall and a reinstall every pod would be refused until the apiserver restarts.
 */
export const ADMISSION_PARAMS_KIND = 'SandboxAdmissionParams';
export const ADMISSION_PARAMS_PLURAL = 'sandboxadmissionparams';

/** Namespace label that opts a namespace in and names its profile; also the pod-level override annotation. */
export const PROFILE_LABEL = 'podfence.dev/profile';
/** Per-container override annotation prefix: `podfence.dev/profile.<container>`. */
export const CONTAINER_PROFILE_ANNOTATION_PREFIX = 'podfence.dev/profile.';
/** Written by the webhook: what was applied (`<profile>@<hash>`). */
export const APPLIED_ANNOTATION = 'podfence.dev/applied';

/** Node label set (by the controller) when a node has a given compiled seccomp file: key prefix + hash. */
export const NODE_SECCOMP_LABEL_PREFIX = 'seccomp.podfence.dev/';
/** Node label set (by the controller) while the node agent reports its CSI driver ready (wrapper delivery). */
export const NODE_CSI_READY_LABEL = 'csi.podfence.dev/ready';

/** podfence's CSI driver (served by the node agent): sandboxed pods get the wrapper as its inline volume. */
export const CSI_DRIVER_NAME = 'podfence.dev';

/** Finalizer that keeps a profile in use by pods from disappearing. */
export const IN_USE_FINALIZER = 'podfence.dev/in-use';

/** Sub-directory of `<kubelet root>/seccomp` owned by podfence; pods reference `podfence/<file>`. */
export const SECCOMP_SUBDIR = 'podfence';
export const DEFAULT_KUBELET_ROOT = '/var/lib/kubelet';

/** In-pod location of the Landlock wrapper (emptyDir filled by the init container). */
export const INIT_DIR = '/podfence';
export const INIT_BINARY = `${INIT_DIR}/podfence-init`;
export const INIT_CONTAINER_NAME = 'podfence-init';
export const INIT_VOLUME_NAME = 'podfence-init';
/** Where the ServiceAccount admission plugin mounts the API token (it skips a container with a mount there). */
export const SERVICE_ACCOUNT_TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export const DEFAULT_UID = 65534;
export const DEFAULT_GID = 65534;

/** Events the node agent writes on a pod for each (aggregated) sandbox denial, and their data annotations. */
export const DENIED_EVENT_REASON = 'PodfenceDenied';
export const DENIAL_ANNOTATION_PREFIX = 'podfence.dev/denial-';
