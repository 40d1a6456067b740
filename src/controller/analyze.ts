import { compileSeccomp, resolveProfile, validateProfile } from '../profile/index.js';
import { requiredLandlockAbi, type LandlockShape } from './landlock-abi.js';
import type { ProfileAnalysis, ProfileObject } from './types.js';

/**
 * Validate and compile one profile with src/profile (the single compiler; the node agents run the same pure
 * function, so both sides agree on the hash and the bytes without shipping the JSON through the API).
 */
export type Analysis = ProfileAnalysis & { json?: string; fileName?: string };

export function analyzeProfile(obj: ProfileObject): Analysis {
  let result;
  try {
    result = validateProfile(obj);
  } catch (err) {
    return { valid: false, errors: [{ path: 'spec', message: `cannot validate: ${String(err)}` }] };
  }
  if (!result.ok) return { valid: false, errors: result.errors };
  try {
    const compiled = compileSeccomp(result.profile);
    const resolved = resolveProfile(result.profile) as unknown as LandlockShape & { spec?: LandlockShape };
    return {
      valid: true,
      hash: compiled.hash,
      localhostProfile: compiled.localhostProfile,
      requiredAbi: requiredLandlockAbi(resolved.spec ?? resolved),
      json: compiled.json,
      fileName: compiled.fileName,
    };
  } catch (err) {
    return { valid: false, errors: [{ path: 'spec', message: `cannot compile: ${String(err)}` }] };
  }
}

/** Analyses are pure in (name, spec): remember them so resyncs and events do not recompile. */
export class AnalysisCache {
  private readonly entries = new Map<string, { key: string; analysis: Analysis }>();

  get(obj: ProfileObject): Analysis {
    const name = obj.metadata?.name ?? '';
    const key = JSON.stringify(obj.spec ?? null);
    const hit = this.entries.get(name);
    if (hit && hit.key === key) return hit.analysis;
    const analysis = analyzeProfile(obj);
    this.entries.set(name, { key, analysis });
    return analysis;
  }

  delete(name: string): void {
    this.entries.delete(name);
  }
}
