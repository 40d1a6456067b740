import type { NodeReportStatus } from '../model/objects.js';
import { Interner } from './interner.js';

// Which node has which profile file, kept from the node and report events, so a profile's node counts cost one set
// lookup per node instead of a scan of every node's report, and a report change names only the profiles it can
// affect. At 1,000 nodes x 100 profiles the scan-everything way needed minutes to converge on one new profile.

/** What a profile's status needs to know about the nodes, for one compiled version. */
export interface NodeTally {
  total: number;
  installed: number;
  /** Nodes without the file (any order). */
  missing: string[];
  /** Nodes whose reported Landlock ABI is below the one the version needs. */
  unsupported: { name: string; abi: number }[];
}

/** Anything that can count a profile version's nodes (the index, or a plain list in tests). */
export interface NodeCounter {
  tally(profile: string, hash: string, requiredAbi: number): NodeTally;
}

/** Profiles a change can affect: some by name, or all of them (a node came or went, an ABI changed). */
export type Affected = { all: true } | { all: false; profiles: string[] };

const fileKey = (profile: string, hash: string) => `${profile}\n${hash}`;

interface NodeFacts {
  abi?: number;
  files: Set<string>;
}

export class NodeInstallIndex implements NodeCounter {
  private readonly nodes = new Set<string>();
  private readonly reports = new Map<string, NodeFacts>();
  /** fileKey -> nodes whose report lists it. */
  private readonly holders = new Map<string, Set<string>>();
  /** Every node's set holds the same few hundred keys: one string each, not one per node. */
  private readonly keys = new Interner();

  /** A Node exists: every profile's total changes. Returns whether it is new. */
  addNode(name: string): boolean {
    if (this.nodes.has(name)) return false;
    this.nodes.add(name);
    return true;
  }

  /** A Node is gone. Returns whether it was known. */
  deleteNode(name: string): boolean {
    return this.nodes.delete(name);
  }

  /** Record a node's report as it is now (undefined: none). Returns the profiles whose tally may have changed. */
  setReport(node: string, report: NodeReportStatus | undefined): Affected {
    const before = this.reports.get(node);
    const files = new Set((report?.installed ?? []).map((f) => this.keys.get(fileKey(f.profile, f.hash))));
    const abi = report ? report.landlockABI : undefined;
    const affected = new Set<string>();
    for (const key of before?.files ?? []) {
      if (files.has(key)) continue;
      this.holders.get(key)?.delete(node);
      if (this.holders.get(key)?.size === 0) this.holders.delete(key);
      affected.add(key.slice(0, key.indexOf('\n')));
    }
    for (const key of files) {
      if (before?.files.has(key)) continue;
      let set = this.holders.get(key);
      if (!set) this.holders.set(key, (set = new Set()));
      set.add(node);
      affected.add(key.slice(0, key.indexOf('\n')));
    }
    if (report) this.reports.set(node, { abi, files });
    else this.reports.delete(node);
    if (before?.abi !== abi) return { all: true };
    return { all: false, profiles: [...affected] };
  }

  tally(profile: string, hash: string, requiredAbi: number): NodeTally {
    const holders = this.holders.get(fileKey(profile, hash));
    const missing: string[] = [];
    const unsupported: NodeTally['unsupported'] = [];
    let installed = 0;
    for (const name of this.nodes) {
      if (holders?.has(name)) installed++;
      else missing.push(name);
      const abi = this.reports.get(name)?.abi;
      if (abi !== undefined && abi < requiredAbi) unsupported.push({ name, abi });
    }
    return { total: this.nodes.size, installed, missing, unsupported };
  }
}
