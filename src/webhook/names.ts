// Webhook-only names (the shared ones live in src/common/constants.ts).

/** Containers the webhook admitted without the Landlock wrapper (policy `skip-landlock`), comma-separated. */
export const LANDLOCK_SKIPPED_ANNOTATION = 'podfence.dev/landlock-skipped';

/** The init container's command: copy the wrapper into the shared emptyDir. */
export const INIT_INSTALL_COMMAND = ['/podfence-init', 'install', '/podfence'];

/** The emptyDir holding the wrapper: tmpfs, just big enough for one static binary. */
export const INIT_VOLUME_SIZE = '8Mi';
