import { compileProfileObject, type CompileResult } from '../profile/index.js';
import type { ProfileObject } from './objects.js';

/**
 * Compiled profiles by name, recompiled only when the spec changes: compiling is pure in (name, spec), so status
 * writes, resyncs and repeated admissions reuse one result. One per process.
 */
export class CompiledProfiles {
  private readonly entries = new Map<string, { key: string; result: CompileResult }>();

  get(obj: ProfileObject): CompileResult {
    const name = obj.metadata?.name ?? '';
    const key = JSON.stringify(obj.spec ?? null);
    const hit = this.entries.get(name);
    if (hit && hit.key === key) return hit.result;
    const result = compileProfileObject(obj);
    this.entries.set(name, { key, result });
    return result;
  }

  delete(name: string): void {
    this.entries.delete(name);
  }
}
