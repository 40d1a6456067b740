import { APPLIED_ANNOTATION } from '../../common/constants.js';
import { LANDLOCK_SKIPPED_ANNOTATION } from '../names.js';
import type { ProfileInfo } from '../types.js';

// Step: what podfence records on the pod: the profile and version applied (read by the controller's pod usage and
// the validating policy), and the containers admitted without Landlock.

export function podfenceAnnotations(
  annotations: Record<string, string>,
  podProfile: ProfileInfo,
  landlockSkipped: string[],
): Record<string, string> {
  const out: Record<string, string> = {
    ...annotations,
    [APPLIED_ANNOTATION]: `${podProfile.name}@${podProfile.version}`,
  };
  if (landlockSkipped.length) out[LANDLOCK_SKIPPED_ANNOTATION] = landlockSkipped.join(',');
  else delete out[LANDLOCK_SKIPPED_ANNOTATION];
  return out;
}
