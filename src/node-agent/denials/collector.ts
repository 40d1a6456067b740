import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { shortError } from '../../kube/errors.js';
import { DenialAggregator, DEFAULT_LIMITS, eventMessage, type AggregatorLimits, type Emission } from './aggregate.js';
import { attribute, type Attribution, type PodDenial } from './attribute.js';
import { AuditEventAssembler, type AuditEvent } from './audit-events.js';
import { parseAuditLine } from './audit-record.js';
import { parseCgroup, type CgroupIds } from './cgroup.js';
import { denialsOf, LandlockDomains, type Denial } from './denial.js';

export interface DenialCollectorOptions {
  /** The audit-tap binary and its arguments (e.g. `--enable-audit`). */
  tap: string;
  tapArgs?: string[];
  /** The pod with this UID on this node (with status.containerStatuses for the container), if any. */
  podByUid: (uid: string, containerId?: string) => Promise<V1Pod | undefined>;
  /** Writes one aggregated Event (DenialEventWriter.write in production). */
  writeEvent: (e: Emission) => Promise<void>;
  log: Logger;
  registry: Registry;
  /** Host /proc (the agent runs with hostPID). */
  procRoot?: string;
  limits?: AggregatorLimits;
  now?: () => number;
}

const PROCESS_GONE = 'process gone before its cgroup was read';

/** The metric's reason label: a small fixed set (the drop text may name a container). */
function dropReason(drop: string): string {
  return drop.startsWith('container ') ? 'container not wrapped by podfence' : drop;
}

/** /proc/<pid>/cgroup text from the tap's one-field form (lines joined by `|`). */
function unjoin(field: string): string {
  return field.replace(/\|/g, '\n');
}

/** seccomp records podfence's own profiles cause on purpose: glibc's clone3 probe gets ENOSYS to fall back to clone. */
function isPodfenceMechanics(d: Denial): boolean {
  return d.layer === 'seccomp' && d.object === 'clone3' && d.detail === 'errno';
}

/**
 * The node agent's denial pipeline: audit-tap's lines -> records -> events -> denials -> pod (via the process's
 * cgroup) -> only podfence's -> metric + aggregated, rate-limited Events + a log line per Event. Restarts the tap
 * (with backoff) when it exits.
 */
export class DenialCollector {
  private readonly assembler = new AuditEventAssembler();
  private readonly domains = new LandlockDomains();
  private readonly aggregator: DenialAggregator;
  private readonly counter: Counter<'namespace' | 'profile' | 'layer'>;
  private readonly droppedTotal: Counter<'layer' | 'reason'>;
  private readonly now: () => number;
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private expireTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private restartMs = 1_000;
  private source: string | undefined;
  private tapError: string | undefined = 'audit-tap not started';
  /** Serializes the async part so denials are handled in arrival order. */
  private chain: Promise<void> = Promise.resolve();
  private readonly cgroupCache = new Map<number, { ids: CgroupIds | undefined; at: number }>();
  private readonly domainPods = new Map<string, CgroupIds>();
  readonly dropped = new Map<string, number>();

  constructor(private readonly opts: DenialCollectorOptions) {
    this.now = opts.now ?? Date.now;
    this.aggregator = new DenialAggregator(opts.limits ?? DEFAULT_LIMITS);
    this.counter = new Counter({
      name: 'podfence_denials_total',
      help: 'Operations the sandbox refused (or, in audit mode, logged), by namespace, profile and layer',
      labelNames: ['namespace', 'profile', 'layer'],
      registers: [opts.registry],
    });
    this.droppedTotal = new Counter({
      name: 'podfence_denials_dropped_total',
      help:
        'Denials the kernel logged that were not reported: not from a pod podfence sandboxed, or from a process ' +
        'that was gone before its cgroup could be read (by layer and reason)',
      labelNames: ['layer', 'reason'],
      registers: [opts.registry],
    });
  }

  /** Undefined when the tap runs; otherwise why not (for readiness: denials are not seen meanwhile). */
  health(): string | undefined {
    return this.tapError;
  }

  start(): void {
    this.stopped = false;
    this.spawnTap();
    this.expireTimer = setInterval(() => this.onEvents(this.assembler.expire(this.now())), 100);
    this.expireTimer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.expireTimer);
    clearTimeout(this.timer);
    clearTimeout(this.flushTimer);
    this.child?.kill('SIGTERM');
    await this.chain;
  }

  /** Feeds one line of audit-tap output (exposed for tests that bring their own lines). */
  handleLine(line: string): void {
    const rec = parseAuditLine(line);
    if (rec) this.onEvents(this.assembler.add(rec, this.now()));
  }

  forgetPod(uid: string): void {
    this.aggregator.forgetPod(uid);
  }

  private spawnTap(): void {
    const { tap, tapArgs = [], log } = this.opts;
    const child = spawn(tap, tapArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (l) => this.handleLine(l));
    createInterface({ input: child.stderr! }).on('line', (l) => {
      const m = /^audit-tap: source=(\w+)/.exec(l);
      if (m) {
        this.source = m[1];
        this.tapError = undefined;
        this.restartMs = 1_000;
        log.info({ source: this.source }, 'reading kernel audit records for denials');
      } else log.warn({ tap: l }, 'audit-tap');
    });
    child.on('error', (err) => {
      // Not started at all (ENOENT, EACCES): 'exit' does not follow, so the retry is scheduled here.
      this.tapError = `audit-tap ${tap}: ${shortError(err)}`;
      log.error({ err: shortError(err), tap, inMs: this.restartMs }, 'cannot run audit-tap: no denials are collected');
      if (child.pid === undefined && !this.stopped) {
        this.timer = setTimeout(() => this.spawnTap(), this.restartMs);
        this.restartMs = Math.min(this.restartMs * 2, 60_000);
      }
    });
    child.on('exit', (code, signal) => {
      if (this.stopped) return;
      this.tapError = `audit-tap exited (${signal ?? code}); restarting`;
      log.warn({ code, signal, inMs: this.restartMs }, 'audit-tap exited; restarting');
      this.timer = setTimeout(() => this.spawnTap(), this.restartMs);
      this.restartMs = Math.min(this.restartMs * 2, 60_000);
    });
  }

  private onEvents(events: AuditEvent[]): void {
    for (const ev of events) {
      const denials = denialsOf(ev, this.domains);
      if (!denials.length) continue;
      this.chain = this.chain
        .then(() => this.handle(denials))
        .catch((err: unknown) => {
          this.opts.log.warn({ err: shortError(err) }, 'denial handling failed');
        });
    }
  }

  private async handle(denials: Denial[]): Promise<void> {
    for (const d of denials) {
      if (isPodfenceMechanics(d)) continue;
      const ids = await this.cgroupOf(d);
      const pod = ids?.podUid ? await this.opts.podByUid(ids.podUid, ids.containerId) : undefined;
      const a: Attribution = ids ? attribute(d, ids, pod) : { drop: PROCESS_GONE };
      if ('drop' in a) {
        this.droppedTotal.inc({ layer: d.layer, reason: dropReason(a.drop) });
        const n = (this.dropped.get(a.drop) ?? 0) + 1;
        this.dropped.set(a.drop, n);
        // Not podfence's: debug only (a host full of other denials must not flood the log), the first at info.
        const line = {
          reason: a.drop,
          layer: d.layer,
          operation: d.operation,
          object: d.object,
          pid: d.pid,
          dropped: n,
        };
        if (n === 1) this.opts.log.info(line, 'denial ignored (first of its kind)');
        else this.opts.log.debug(line, 'denial ignored');
        continue;
      }
      this.counter.inc({ namespace: a.denial.namespace, profile: a.denial.profile, layer: a.denial.layer });
      this.aggregator.add(a.denial, this.now());
    }
    await this.flush();
  }

  /**
   * The cgroup a denial happened in, or undefined when none could be read. The actor's own (read by the tap at once)
   * decides when it was read. A forked child that exits right after its denial is often reaped before the kernel's
   * audit thread and the tap run; then a Landlock denial falls back to its parent's cgroup (the tap's pf_pcgroup),
   * its domain creator's (podfence-init, the container's entrypoint, which every process of the domain descends
   * from) and the pod an earlier denial of the same domain was tied to. seccomp records name no parent or domain.
   */
  private async cgroupOf(d: Denial): Promise<CgroupIds | undefined> {
    if (d.cgroup) return this.learn(d, parseCgroup(unjoin(d.cgroup)));
    for (const text of [d.parentCgroup, d.domainCgroup]) {
      const ids = text ? parseCgroup(unjoin(text)) : {};
      if (ids.podUid) return this.learn(d, ids);
    }
    const known = d.domain ? this.domainPods.get(d.domain) : undefined;
    if (known) return known;
    if (!d.pid) return undefined;
    const now = this.now();
    const hit = this.cgroupCache.get(d.pid);
    // Short: pids are reused, but a loop of denials from one process needs one read.
    if (hit && now - hit.at < 2_000) return hit.ids;
    let ids: CgroupIds | undefined;
    try {
      ids = this.learn(d, parseCgroup(await readFile(`${this.opts.procRoot ?? '/proc'}/${d.pid}/cgroup`, 'utf8')));
    } catch {
      // Gone already (a short-lived process): nothing to tie it to.
    }
    if (this.cgroupCache.size > 10_000) this.cgroupCache.clear();
    this.cgroupCache.set(d.pid, { ids, at: now });
    return ids;
  }

  /** Remembers which pod a Landlock domain's denials come from (domain IDs are never reused until reboot). */
  private learn(d: Denial, ids: CgroupIds): CgroupIds {
    if (d.domain && ids.podUid && !this.domainPods.has(d.domain)) {
      if (this.domainPods.size >= 10_000) this.domainPods.delete(this.domainPods.keys().next().value!);
      this.domainPods.set(d.domain, ids);
    }
    return ids;
  }

  private async flush(): Promise<void> {
    const now = this.now();
    for (const e of this.aggregator.take(now)) await this.emit(e);
    clearTimeout(this.flushTimer);
    const next = this.aggregator.nextDueMs(now);
    if (next !== undefined && !this.stopped) {
      this.flushTimer = setTimeout(() => {
        this.chain = this.chain.then(() => this.flush());
      }, next + 5);
      this.flushTimer.unref?.();
    }
  }

  private async emit(e: Emission): Promise<void> {
    const d: PodDenial = e.denial;
    this.opts.log.info(
      {
        namespace: d.namespace,
        pod: d.pod,
        container: d.container,
        profile: d.profile,
        layer: d.layer,
        outcome: d.outcome,
        operation: d.operation,
        object: d.object,
        pid: d.pid,
        exe: d.exe,
        count: e.count,
      },
      eventMessage(d),
    );
    try {
      await this.opts.writeEvent(e);
    } catch (err) {
      this.opts.log.warn({ err: shortError(err), pod: d.pod, namespace: d.namespace }, 'could not write denial Event');
    }
  }
}
