// Child processes of a test cluster: each in its own process group, its output in a log file, a pid file for
// `down.sh`, and killed with its whole group on stop, on failure, on SIGINT/SIGTERM and at process exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  /** Directory for `<name>.log` and `<name>.pid`. */
  dir: string;
  /**
   * Kill the process when this Node process dies, even by SIGKILL (via `setpriv --pdeathsig`), and at exit.
   * Off for clusters meant to outlive the command that started them (`npm run cluster:up`).
   */
  tiedToParent: boolean;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  isRunning(): boolean;
  /** SIGTERM to the group, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ManagedProcess>();
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Last exit safety net: synchronous, so it also works inside 'exit' handlers. */
export function killAllNow(): void {
  for (const p of live) killGroup(p.pid, 'SIGKILL');
  live.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      if (live.size > 0) process.stderr.write(`\n[cluster] ${signal}: stopping ${live.size} cluster process(es)\n`);
      killAllNow();
      process.exit(code);
    });
  }
}

export function startProcess(spec: ProcessSpec): ManagedProcess {
  const logPath = join(spec.dir, `${spec.name}.log`);
  const pidPath = join(spec.dir, `${spec.name}.pid`);
  const out = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    const [command, args] = spec.tiedToParent
      ? ['setpriv', ['--pdeathsig', 'SIGKILL', '--', spec.command, ...spec.args]]
      : [spec.command, spec.args];
    // detached: a new session and process group, so the group can be killed as a whole.
    child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  if (child.pid === undefined) throw new Error(`could not start ${spec.command} (see ${logPath})`);
  const pid = child.pid;
  writeFileSync(pidPath, `${pid}\n`);
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
    child.on('error', (err) => {
      running = false;
      live.delete(proc);
      writeFileSync(logPath, `spawn error: ${err.message}\n`, { flag: 'a' });
      resolve('spawn-error');
    });
  });
  const proc: ManagedProcess = {
    name: spec.name,
    pid,
    logPath,
    exited,
    isRunning: () => running,
    async stop(graceMs = 10_000) {
      if (running) {
        killGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        // Leftovers of the group (none expected: these programs do not fork) go too. Only right after the exit:
        // later the process-group id could belong to someone else.
        killGroup(pid, 'SIGKILL');
      }
      if (existsSync(pidPath) && readFileSync(pidPath, 'utf8').trim() === String(pid)) rmSync(pidPath);
    },
  };
  if (spec.tiedToParent) {
    live.add(proc);
    installHooks();
  } else {
    child.unref();
  }
  return proc;
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(path: string, lines = 25): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
