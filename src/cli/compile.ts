import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { PROFILE_KIND } from '../common/constants.js';
import {
  compileLandlockArgs,
  compileSeccomp,
  profileVersion,
  validateProfile,
  type SandboxProfile,
} from '../profile/index.js';

export interface CompileOptions {
  /** Only the profile of this name (required when the input holds several and no outDir is given). */
  name?: string;
  /** Print the podfence-init options instead of the seccomp JSON. */
  landlock?: boolean;
  /** Print the localhostProfile path (and versions) instead of the JSON. */
  path?: boolean;
  /** Write every profile's JSON to DIR/<name>-<hash>.json. */
  outDir?: string;
}

export interface CompileOutput {
  code: number;
  stdout: string;
  stderr: string;
  files: { path: string; content: string }[];
}

/** The profiles in a YAML (multi-document) or JSON text; `List` objects are flattened. */
function documents(text: string, source: string): { docs: unknown[]; errors: string[] } {
  const docs: unknown[] = [];
  const errors: string[] = [];
  parseAllDocuments(text).forEach((d, i) => {
    if (d.errors.length) {
      errors.push(`${source}: document ${i + 1}: invalid YAML/JSON: ${d.errors[0]?.message.split('\n')[0]}`);
      return;
    }
    const value = d.toJS() as unknown;
    if (value === null || value === undefined) return;
    const items =
      (value as { kind?: string }).kind === 'List' ? ((value as { items?: unknown[] }).items ?? []) : [value];
    docs.push(...items);
  });
  return { docs, errors };
}

/** Pure core of `podfence compile`: input text in, what to print out. */
export function compileText(text: string, source: string, opts: CompileOptions = {}): CompileOutput {
  const out: CompileOutput = { code: 0, stdout: '', stderr: '', files: [] };
  const fail = (msg: string) => ({ ...out, code: 1, stderr: out.stderr + msg + '\n' });
  const { docs, errors } = documents(text, source);
  if (errors.length) return fail(errors.join('\n'));

  const profiles: SandboxProfile[] = [];
  const problems: string[] = [];
  docs.forEach((doc, i) => {
    const kind = (doc as { kind?: unknown })?.kind;
    const name = (doc as { metadata?: { name?: unknown } })?.metadata?.name;
    const where = `${source}: document ${i + 1}${typeof name === 'string' ? ` (${name})` : ''}`;
    if (kind !== undefined && kind !== PROFILE_KIND) {
      out.stderr += `${where}: skipped (kind ${String(kind)})\n`;
      return;
    }
    if (opts.name && name !== opts.name) return;
    const v = validateProfile(doc);
    if (!v.ok) problems.push(...v.errors.map((e) => `${where}: ${e.path}: ${e.message}`));
    else profiles.push(v.profile);
  });
  if (problems.length) return fail(problems.join('\n'));
  if (!profiles.length) return fail(`${source}: no SandboxProfile${opts.name ? ` named ${opts.name}` : ''} found`);
  if (profiles.length > 1 && !opts.outDir && !opts.path) {
    return fail(
      `${source}: ${profiles.length} profiles (${profiles.map((p) => p.metadata.name).join(', ')}): choose one with --name, or use --out-dir`,
    );
  }

  for (const p of profiles) {
    const compiled = compileSeccomp(p);
    if (opts.outDir) out.files.push({ path: join(opts.outDir, compiled.fileName), content: compiled.json });
    if (opts.path) out.stdout += `${p.metadata.name}\t${compiled.localhostProfile}\tversion ${profileVersion(p)}\n`;
    else if (opts.landlock) out.stdout += compileLandlockArgs(p).map(shellQuote).join(' ') + '\n';
    else if (!opts.outDir) out.stdout += compiled.json;
  }
  return out;
}

/** Quote for a POSIX shell only when needed (paths are usually plain). */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function register(program: Command): void {
  program
    .command('compile')
    .description('Compile a SandboxProfile (YAML or JSON file, "-" for stdin) to its OCI seccomp JSON')
    .argument('<file>', 'profile file (multi-document YAML, JSON, or a List); "-" reads stdin')
    .option('--name <profile>', 'the profile to compile when the file holds several')
    .option('--landlock', 'print the podfence-init options (before --) instead of the seccomp JSON')
    .option('--path', 'print name, localhostProfile path and profile version instead of the JSON')
    .option('--out-dir <dir>', 'write each profile to <dir>/<name>-<hash>.json (the node file name)')
    .action((file: string, opts: CompileOptions) => {
      const text = readFileSync(file === '-' ? 0 : file, 'utf8');
      const result = compileText(text, file === '-' ? 'stdin' : file, opts);
      for (const f of result.files) {
        mkdirSync(opts.outDir ?? '.', { recursive: true });
        writeFileSync(f.path, f.content);
        process.stderr.write(`wrote ${f.path}\n`);
      }
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.code;
    });
}
