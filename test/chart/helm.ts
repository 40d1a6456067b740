// Runs the pinned helm (built by build-helm.sh) against the chart, and parses what it renders.
import { execFileSync, spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../cluster/repo-root.js';

// From the checkout, not from this file's location: the demo runs a transpiled copy of it (test/node/load.js).
export const REPO = repoRoot();
const here = join(REPO, 'test', 'chart');
export const CHART_DIR = join(REPO, 'charts', 'podfence');

/** A Kubernetes object as rendered; only the fields the tests read are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

let helmPath: string | undefined;
/** Builds helm once (cached under ~/.cache/podfence) and returns its path. */
export function helmBinary(): string {
  if (!helmPath) {
    const out = execFileSync('bash', [join(here, 'build-helm.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    helmPath = out.trim().split('\n').pop()!;
  }
  return helmPath;
}

// helm keeps config, cache and repository data under $HOME; the tests use a place of their own in the cache
// (the tests add no repositories or plugins, so nothing there changes what a test sees).
const helmHome = join(process.env.PODFENCE_CACHE || join(homedir(), '.cache', 'podfence'), 'helm-home');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs helm; never throws (the caller asserts on status and output). */
export function helm(args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    env: {
      ...process.env,
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_DATA_HOME: join(helmHome, 'data'),
      ...env,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `--set-json` flags from a nested object of values: every leaf path becomes one flag. */
export function valueFlags(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`]);
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values as `path: value` pairs (e.g. `{'webhook.failurePolicy': 'Ignore'}`). */
  values?: Record<string, unknown>;
  /** Extra helm flags (e.g. `--include-crds`, `-f file`). */
  flags?: string[];
}

/** `helm template` → the rendered YAML text; throws with helm's message when rendering fails. */
export function renderText(opts: RenderOptions = {}): string {
  const r = helm([
    'template',
    opts.release ?? 'podfence',
    CHART_DIR,
    '--namespace',
    opts.namespace ?? 'podfence-system',
    ...valueFlags(opts.values ?? {}),
    ...(opts.flags ?? []),
  ]);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return r.stdout;
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

export function render(opts: RenderOptions = {}): K8sObject[] {
  return parseManifests(renderText(opts));
}

export function find(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o)
    throw new Error(
      `no ${kind}${name ? ` ${name}` : ''} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
    );
  return o;
}
