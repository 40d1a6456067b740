import type { NodeReportObject } from '../model/objects.js';
import type { Interner } from './interner.js';

/**
 * Only the report fields the controller reads (the install index and the node labels: Landlock ABI, installed
 * files, CSI readiness), with the repeated strings interned. Kernel, agent version, timestamps and messages are
 * not kept.
 */
export function slimReport(report: NodeReportObject, intern: Interner): NodeReportObject {
  const m = report.metadata;
  const s = report.status;
  return {
    apiVersion: report.apiVersion,
    kind: report.kind,
    metadata: { name: m?.name, uid: m?.uid, resourceVersion: m?.resourceVersion },
    status: s && {
      ...(s.landlockABI !== undefined ? { landlockABI: s.landlockABI } : {}),
      ...(s.installed
        ? {
            installed: s.installed.map((f) => ({
              profile: intern.get(f.profile),
              hash: intern.get(f.hash),
              file: intern.get(f.file),
            })),
          }
        : {}),
      ...(s.csi ? { csi: { ready: s.csi.ready } } : {}),
    },
  };
}
