import {
  compileLandlockArgs,
  compileSeccomp,
  landlockArgsFor,
  profileVersion,
  resolveProfile,
  securityContextFor,
  validateProfile,
  type ResolvedProfile,
  type SandboxProfile,
} from '../profile/index.js';
import type { ProfileApi } from './profile-info.js';

/** The real compiler from src/profile, as the webhook consumes it. */
export const profileApi: ProfileApi<SandboxProfile> = {
  validateProfile,
  resolveProfile,
  compileSeccomp,
  compileLandlockArgs,
  landlockArgsFor: (resolved, extra) => landlockArgsFor(resolved as ResolvedProfile, extra),
  securityContextFor,
  profileVersion,
};
