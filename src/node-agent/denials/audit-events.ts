import { AUDIT, type AuditRecord } from './audit-record.js';

/** The records of one audit event (same `audit(<time>:<serial>)`), in arrival order. */
export interface AuditEvent {
  event: string;
  time: number;
  records: AuditRecord[];
}

/**
 * Groups records into events. An event ends at its EOE record (1320), which only tasks with an audit context
 * get; a seccomp record usually comes alone and a Landlock denial of a task without a context has no EOE, so an
 * event also ends when nothing was added to it for `quietMs`. The caller's clock drives expiry. Pure.
 */
export class AuditEventAssembler {
  private readonly open = new Map<string, { ev: AuditEvent; last: number }>();

  constructor(
    private readonly quietMs = 100,
    private readonly maxOpen = 10_000,
  ) {}

  /** Adds a record; returns the events it completed. */
  add(rec: AuditRecord, now: number): AuditEvent[] {
    const done: AuditEvent[] = [];
    let entry = this.open.get(rec.event);
    if (!entry) {
      // A flood of unfinished events must not grow memory without bound: the oldest is finished early.
      if (this.open.size >= this.maxOpen) {
        const [oldest] = this.open.keys();
        done.push(this.open.get(oldest!)!.ev);
        this.open.delete(oldest!);
      }
      entry = { ev: { event: rec.event, time: rec.time, records: [] }, last: now };
      this.open.set(rec.event, entry);
    }
    entry.last = now;
    if (rec.type === AUDIT.EOE) {
      this.open.delete(rec.event);
      done.push(entry.ev);
    } else {
      entry.ev.records.push(rec);
    }
    return done;
  }

  /** Events nothing was added to for `quietMs`. */
  expire(now: number): AuditEvent[] {
    const done: AuditEvent[] = [];
    for (const [key, entry] of this.open) {
      if (now - entry.last >= this.quietMs) {
        this.open.delete(key);
        done.push(entry.ev);
      }
    }
    return done;
  }

  get pending(): number {
    return this.open.size;
  }
}
