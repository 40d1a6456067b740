// Finding and reading the processes measured: which pid listens on a TCP port, its CPU ticks and RSS.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpuTicksFromStat, rssBytesFromStatus } from './stats.js';

/** Socket inodes of listening sockets on `port` from the text of /proc/net/tcp or /proc/net/tcp6. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const out: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = f[1]!;
    const state = f[3]!;
    const p = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (state === '0A' && p === port) out.push(f[9]!); // 0A = TCP_LISTEN
  }
  return out;
}

/** Remote ports of the ESTABLISHED connections to local `port` (/proc/net/tcp text): which connections a client holds. */
export function establishedRemotePorts(procNetTcp: string, port: number): number[] {
  const out: number[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = f[1]!;
    const remote = f[2]!;
    if (f[3] === '01' && parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) {
      out.push(parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16)); // 01 = TCP_ESTABLISHED
    }
  }
  return out;
}

/** The same for this host (IPv4 and IPv6 tables). */
export function connectionsTo(port: number): number[] {
  const out: number[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      out.push(...establishedRemotePorts(readFileSync(f, 'utf8'), port));
    } catch {
      // no IPv6
    }
  }
  return out;
}

/** The pid owning a listening socket on `port` (searches every process's fds). */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const i of listeningInodes(readFileSync(f, 'utf8'), port)) inodes.add(`socket:[${i}]`);
    } catch {
      // no IPv6
    }
  }
  if (inodes.size === 0) return undefined;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${d}/fd/${fd}`))) return Number(d);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

export const cpuTicks = (pid: number) => cpuTicksFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
export const rssBytes = (pid: number) => rssBytesFromStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
